"""Installation settings, read from the environment in one place.

Study-level settings (cohorts on the web, draw order, crisis lines, ...) live in the
database with each study; see :mod:`survey.study`. This module only holds what an
operator sets for a machine: where data and keys live and which database to use.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from survey.errors import UsageError

# A study's name: an ASCII slug (it names key folders and appears in URLs and files).
STUDY_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def check_study_name(name: str) -> None:
    if not STUDY_NAME.fullmatch(name):  # fullmatch: "$" would let a trailing newline through
        raise UsageError(
            "調査名は英小文字・数字・-・_ の32文字以内にしてください。",
            "A study name is an ASCII slug: a-z, 0-9, '-' and '_', at most 32 characters.",
        )


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    key_dir: Path
    database_url: str
    study: str | None
    public_url: str | None = None
    # Unknown-code attempts (404 replies) a client may make per 10 minutes on the collector,
    # counted in process memory only; 0 switches the limit off (e.g. behind nginx's own).
    unknown_code_limit: int = 30
    openapi: bool = True
    busy_timeout_ms: int = 10_000
    password: str | None = None  # SURVEY_PASSWORD: a staff password for scripted CLI use
    key_passphrase: str | None = None  # SURVEY_KEY_PASSPHRASE: for `survey keys generate`
    debug: bool = False  # SURVEY_DEBUG: show tracebacks of unexpected errors
    ipamj_font: str | None = None  # SURVEY_IPAMJ_FONT: IPAmj明朝 outside Debian's path
    # SURVEY_TRUSTED_PROXIES: the reverse proxies whose X-Forwarded-For is believed. Nobody
    # else's: a client could otherwise pick the address the rate limits count it under.
    trusted_proxies: tuple[str, ...] = ()
    # SURVEY_OWNER_DATABASE_URL: the PostgreSQL table owner, for erasure's VACUUM FULL only
    # (the application role cannot rewrite tables, and should not be able to).
    owner_database_url: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def study_key_dir(self, study: str) -> Path:
        return self.key_dir / study


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``SURVEY_*`` variables; relative paths resolve against the working directory."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("SURVEY_DATA_DIR") or "./var").expanduser().resolve()
    key_dir = Path(env.get("SURVEY_KEY_DIR") or "./keys").expanduser().resolve()
    # Keys must never sit inside the data folder: the data folder is backed up and
    # copied around, and the roster key's whole point is that it can be destroyed
    # (crypto-erasure) without chasing copies of it through backups.
    if _inside(key_dir, data_dir):
        raise UsageError(
            f"SURVEY_KEY_DIR ({key_dir}) はデータフォルダ ({data_dir}) の外に置いてください。",
            f"SURVEY_KEY_DIR ({key_dir}) must be outside the data folder ({data_dir}).",
        )
    url = env.get("SURVEY_DATABASE_URL") or f"sqlite:///{data_dir / 'survey.sqlite3'}"
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise UsageError(
            "SURVEY_DATABASE_URL は sqlite:// か postgresql:// で始めてください。",
            "SURVEY_DATABASE_URL must start with sqlite:// or postgresql://.",
        )
    study = env.get("SURVEY_STUDY") or None
    if study is not None:
        check_study_name(study)
    owner_url = env.get("SURVEY_OWNER_DATABASE_URL") or None
    if owner_url is not None and not owner_url.startswith("postgresql"):
        raise UsageError(
            "SURVEY_OWNER_DATABASE_URL は postgresql:// で始めてください（表の所有者）。",
            "SURVEY_OWNER_DATABASE_URL must start with postgresql:// (the tables' owner).",
        )
    public_url = (env.get("SURVEY_PUBLIC_URL") or "").rstrip("/") or None
    if public_url is not None:
        check_public_url(public_url)
    return Settings(
        data_dir=data_dir,
        key_dir=key_dir,
        database_url=url,
        study=study,
        public_url=public_url,
        unknown_code_limit=_int(env, "SURVEY_UNKNOWN_CODE_LIMIT", 30, minimum=0),
        openapi=_flag(env, "SURVEY_OPENAPI", True),
        busy_timeout_ms=_int(env, "SURVEY_BUSY_TIMEOUT_MS", 10_000, minimum=1),
        password=env.get("SURVEY_PASSWORD") or None,
        key_passphrase=env.get("SURVEY_KEY_PASSPHRASE") or None,
        debug=_flag(env, "SURVEY_DEBUG", False),
        ipamj_font=env.get("SURVEY_IPAMJ_FONT") or None,
        trusted_proxies=_networks(env.get("SURVEY_TRUSTED_PROXIES") or ""),
        owner_database_url=owner_url,
    )


def check_public_url(url: str) -> None:
    """The study's web address, printed on slips: ``/#code=...`` is appended to it."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(
            "SURVEY_PUBLIC_URL は https://（または http://）で始まるアドレスで、"
            "? や # を含めないでください。",
            "SURVEY_PUBLIC_URL must be an https:// (or http://) address without query or fragment.",
        )


def _networks(text: str) -> tuple[str, ...]:
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise UsageError(
                f"SURVEY_TRUSTED_PROXIES は IP アドレスかネットワーク（例 10.0.0.5, 10.0.0.0/24）を"
                f"カンマで区切って並べます: {part}",
                f"SURVEY_TRUSTED_PROXIES lists IP addresses or networks, comma-separated: {part!r}",
            ) from exc
    return tuple(out)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise UsageError(
            f"{name} は{minimum}以上の整数です。", f"{name} must be an integer >= {minimum}."
        )
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "on", "true", "yes"):
        return True
    if raw in ("0", "off", "false", "no"):
        return False
    raise UsageError(f"{name} は on か off です。", f"{name} must be on or off.")
