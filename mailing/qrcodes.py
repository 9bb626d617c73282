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
from reportlab.lib.rl_accel import fp_str
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
        self._head = prefix.encode()
        self._sample = sample.encode()
        # Columns of A (one n × n matrix per bit of the tail) are found when a code first
        # differs from the sample in that bit: bits no code changes (the hyphens, the top
        # bit of ASCII) never cost an encoding.
        self._columns = np.zeros((len(self.base_tail), *self.base.shape), dtype=np.uint8)
        self._known = np.zeros(len(self.base_tail), dtype=bool)

    def _find(self, bits: np.ndarray) -> None:
        for bit in bits[~self._known[bits]].tolist():
            flipped = bytearray(self._sample)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            symbol = _modules(self._head + bytes(flipped), self.mask, self.version)
            self._columns[bit] = symbol ^ self.base
            self._known[bit] = True

    def modules(self, url: str) -> np.ndarray:
        """The module matrix (1 = dark) of ``url``, with the study's fixed mask."""
        tail = url[len(self.prefix) :]
        if not (self.ascii and url.startswith(self.prefix) and len(tail) == self.length):
            return _modules(url, self.mask)
        if not tail.isascii():
            return _modules(url, self.mask)
        bits = np.flatnonzero(
            np.unpackbits(np.frombuffer(tail.encode(), dtype=np.uint8)) ^ self.base_tail
        )
        self._find(bits)
        # One XOR reduction over the code's differing bits (GF(2) sum of A's columns).
        out: np.ndarray = self.base ^ np.bitwise_xor.reduce(self._columns[bits], axis=0)
        return out


_RUN: dict[tuple[int, int, int], str] = {}  # (column, row, width) -> "c r w 1 re"


def draw_modules(canvas: Canvas, modules: np.ndarray, x: float, y: float, size: float) -> float:
    """The dark modules as one filled path (runs of a row merged), lower left at (x, y), in
    module units under a scaling transform (its own q/Q). Returns the module size."""
    n = modules.shape[0]
    module = size / n
    padded = np.zeros((n, n + 2), dtype=np.int8)
    padded[:, 1:-1] = modules
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    runs = []
    for key in zip(starts.tolist(), (n - 1 - rows).tolist(), (ends - starts).tolist(), strict=True):
        run = _RUN.get(key)
        if run is None:
            run = _RUN[key] = "{} {} {} 1 re".format(*key)
        runs.append(run)
    canvas.addLiteral(f"q {fp_str(module, 0, 0, module, x, y)} cm {' '.join(runs)} f Q")
    return float(module)
