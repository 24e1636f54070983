"""Paths and settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
QUERIES_DIR = ROOT / "queries"
EXAM_PLAN = DATA_DIR / "exam_plan.toml"
DEFAULT_DB = DATA_DIR / "demo.duckdb"
TIMEZONE = "Asia/Shanghai"


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("EXAMDASH_DB")
    return Path(env) if env else DEFAULT_DB


def imports_dir(db: Path) -> Path:
    """Originals of imported files are kept next to the database they went into."""
    return db.parent / f"{db.stem}_imports"


def session_timeout_minutes() -> float:
    return float(os.environ.get("EXAMDASH_SESSION_MINUTES", "30"))


def trust_proxy() -> bool:
    """Whether the app runs behind the reverse proxy, whose X-Forwarded-For names the browser."""
    return os.environ.get("EXAMDASH_TRUST_PROXY", "") in ("1", "true", "yes")


def max_upload_mb() -> int:
    return int(os.environ.get("EXAMDASH_MAX_UPLOAD_MB", "200"))


def parse_memory_mb() -> int:
    """Address space an uploaded file's reader may use (its own process; see importers/isolate.py)."""
    return int(os.environ.get("EXAMDASH_PARSE_MEMORY_MB", "3072"))


def parse_seconds() -> float:
    """How long an uploaded file's reader may run."""
    return float(os.environ.get("EXAMDASH_PARSE_SECONDS", "120"))
