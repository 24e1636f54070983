"""Paths and settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
QUERIES_DIR = ROOT / "queries"
EXAM_PLAN = DATA_DIR / "exam_plan.toml"
DEFAULT_DB = DATA_DIR / "demo.ducklake"
STORE_URL_PREFIXES = ("postgresql://", "postgres://", "postgres:")
TIMEZONE = "Asia/Shanghai"


def db_path(explicit: str | os.PathLike | None = None) -> Path | str:
    """The store: a path (a DuckLake's SQLite catalog, or a plain .duckdb file), or a PostgreSQL URL kept
    as text (examdash/store/lake.py)."""
    spec = explicit or os.environ.get("EXAMDASH_DB")
    if spec and str(spec).startswith(STORE_URL_PREFIXES):
        return str(spec)
    return Path(spec) if spec else DEFAULT_DB


def imports_dir(db: Path | str) -> Path:
    """Originals of imported files are kept next to the database they went into (for a PostgreSQL
    catalog: in the shared data path, which every machine sees)."""
    if str(db).startswith(STORE_URL_PREFIXES) or str(db).startswith("postgresql:/"):  # a URL that went through Path
        return Path(os.environ.get("EXAMDASH_DATA_PATH", str(DATA_DIR))) / "imports"
    db = Path(db)
    return db.parent / f"{db.name.split('.')[0]}_imports"


def session_timeout_minutes() -> float:
    return float(os.environ.get("EXAMDASH_SESSION_MINUTES", "30"))


def proxy_hops() -> int:
    """How many reverse proxies of ours stand before the app (EXAMDASH_TRUST_PROXY): 0 (unset) means the
    socket's peer is the browser and X-Forwarded-* headers are ignored; 1 (or true/yes) one proxy; N a chain.
    The browser's address is then the N-th X-Forwarded-For entry from the right (web/clients.py)."""
    value = os.environ.get("EXAMDASH_TRUST_PROXY", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return 0
    if value in ("true", "yes"):
        return 1
    if value.isdigit() and 0 < int(value) <= 10:
        return int(value)
    raise ValueError(f"EXAMDASH_TRUST_PROXY 的值「{value}」无效：应为 0（不经反向代理）、1 或反向代理的层数（至多 10）")


def trust_proxy() -> bool:
    """Whether the app runs behind the reverse proxy, whose X-Forwarded-* headers are then believed."""
    return proxy_hops() > 0


def max_upload_mb() -> int:
    return int(os.environ.get("EXAMDASH_MAX_UPLOAD_MB", "200"))


def parse_memory_mb() -> int:
    """Address space an uploaded file's reader may use (its own process; see importers/isolate.py)."""
    return int(os.environ.get("EXAMDASH_PARSE_MEMORY_MB", "3072"))


def import_seconds() -> float:
    """How long an import started from the 导入 page may run in its worker process."""
    return float(os.environ.get("EXAMDASH_IMPORT_SECONDS", "1800"))


def parse_seconds() -> float:
    """How long an uploaded file's reader may run."""
    return float(os.environ.get("EXAMDASH_PARSE_SECONDS", "120"))


# A Chinese font for the printable materials (PDF): Debian's fonts-noto-cjk (make run and make test
# install it when missing), or the file EXAMDASH_CJK_FONT names.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def cjk_font() -> Path | None:
    named = os.environ.get("EXAMDASH_CJK_FONT")
    if named:
        return Path(named) if Path(named).is_file() else None
    return next((Path(p) for p in CJK_FONTS if Path(p).is_file()), None)
