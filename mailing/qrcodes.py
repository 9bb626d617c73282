"""QR codes for a study's slips: one encoder run per bit of the code, not per slip.

Every web slip's URL is the study's address, ``/#code=`` and a code of fixed length: the same
QR version, mode and length for all of them. The QR standard lets the encoder pick any of the
eight masks; this one is chosen once (segno's choice for the study's first URL) instead of
being scored eight times on each of thousands of slips. With version, mode, length and mask
fixed, a QR symbol is an affine function over GF(2) of the data bits (Reed–Solomon parity is
linear, module placement a permutation, the mask an XOR), so its modules are
``base XOR A·(bits XOR base bits)``, where ``A`` has one column per bit of the code, each
found by flipping that bit once in segno. Each new code is checked against segno while the
pattern is built, and a URL of any other shape is encoded by segno directly.
"""

from __future__ import annotations

import numpy as np
import segno
from reportlab.pdfgen.canvas import Canvas

ERROR = "m"


def _modules(data: str | bytes, mask: int | None = None, version: int | None = None) -> np.ndarray:
    symbol = segno.make_qr(data, error=ERROR, boost_error=False, mask=mask, version=version)
    return np.array(symbol.matrix, dtype=np.uint8)


class QrPattern:
    """QR modules for ``prefix + tail`` where ``tail`` has the length of ``sample``."""

    def __init__(self, prefix: str, sample: str) -> None:
        self.prefix, self.length = prefix, len(sample)
        first = segno.make_qr(prefix + sample, error=ERROR, boost_error=False)
        self.mask: int = first.mask
        self.version = int(first.version)  # a QR (not Micro QR) symbol: an int version
        self.ascii = (prefix + sample).isascii() and first.mode == "byte"
        self.base_tail = np.unpackbits(np.frombuffer(sample.encode(), dtype=np.uint8))
        self.base = np.array(first.matrix, dtype=np.uint8)
        if not self.ascii:
            return
        head = prefix.encode()
        columns = []
        for bit in range(self.length * 8):
            flipped = bytearray(sample.encode())
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            columns.append(
                (_modules(head + bytes(flipped), self.mask, self.version) ^ self.base).ravel()
            )
        self.map = np.array(columns, dtype=np.float32).T  # modules × tail bits

    def modules(self, url: str) -> np.ndarray:
        """The module matrix (1 = dark) of ``url``, with the study's fixed mask."""
        tail = url[len(self.prefix) :]
        if not (self.ascii and url.startswith(self.prefix) and len(tail) == self.length):
            return _modules(url, self.mask)
        if not tail.isascii():
            return _modules(url, self.mask)
        bits = np.unpackbits(np.frombuffer(tail.encode(), dtype=np.uint8)) ^ self.base_tail
        flips = (self.map @ bits.astype(np.float32)).astype(np.int64) & 1
        return self.base ^ flips.reshape(self.base.shape).astype(np.uint8)


def draw_modules(canvas: Canvas, modules: np.ndarray, x: float, y: float, size: float) -> float:
    """The dark modules as one filled path (runs of a row merged), lower left at (x, y), in
    module units under a scaling transform. Returns the module size."""
    n = modules.shape[0]
    module = size / n
    padded = np.zeros((n, n + 2), dtype=np.int8)
    padded[:, 1:-1] = modules
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    ops = " ".join(
        f"{s} {n - 1 - r} {e - s} 1 re"
        for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
    )
    canvas.saveState()
    canvas.transform(module, 0, 0, module, x, y)
    canvas.addLiteral(f"{ops} f")
    canvas.restoreState()
    return float(module)
