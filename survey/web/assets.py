"""Static assets with Subresource Integrity: each URL carries a content hash, each tag its SRI."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from survey.errors import UsageError


class Assets:
    def __init__(self, directory: Path, names: list[str]) -> None:
        self.directory = directory
        self._sri: dict[str, str] = {}
        self._version: dict[str, str] = {}
        for name in names:
            path = directory / name
            try:
                data = path.read_bytes()
            except FileNotFoundError as exc:
                raise UsageError(
                    f"画面用のファイル {name} がありません。make install（npm ci と npm run build）"
                    "を実行してください。",
                    f"Asset {name} is missing: run `make install` (npm ci && npm run build).",
                ) from exc
            self._sri[name] = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
            self._version[name] = hashlib.sha256(data).hexdigest()[:12]

    def url(self, name: str) -> str:
        return f"/static/{name}?v={self._version[name]}"

    def sri(self, name: str) -> str:
        return self._sri[name]
