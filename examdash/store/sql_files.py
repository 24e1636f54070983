"""Named SQL files: a header comment (name, purpose, grain, params, key) and a body with bound $params.

`-- key: a, b` names the columns that identify a row of the result (unique and never null: the grain
in column names); `-- key: one row` says the result is at most one row. Tests hold every query to it.

Analytic queries live in the top-level queries/ folder and are what pages and the CLI run;
the importer's and the rebuild's statements live in examdash/store/sql/ with the same header.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from examdash.config import QUERIES_DIR

INTERNAL_DIR = Path(__file__).parent / "sql"
PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")
SCOPE_PARAM = "scope_school"
SITE_SCOPE_PARAM = "scope_site"  # a 考点 account's site, bound like the school scope
EVENTS_TABLE = "request_events"  # a query naming it reads the application database's events (store/queries.py)


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class SqlFile:
    name: str
    path: Path
    purpose: str
    grain: str
    required: frozenset[str]
    optional: frozenset[str]
    scoped: bool
    access: str  # 'all' (aggregates, reference data: any role), 'staff' (default) or 'admin'
    sql: str
    key: tuple[str, ...] = ()  # the columns that identify a row; () with one_row
    one_row: bool = False
    site_scoped: bool = False  # filters by $scope_site: a 考点 account may run it
    reads_events: bool = False  # names request_events: the application database's half of the audit log


    @property
    def params(self) -> frozenset[str]:
        return self.required | self.optional


def parse(path: Path) -> SqlFile:
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        m = re.match(r"--\s*(\w+)\s*:\s*(.*)$", line)
        if m:
            header[m.group(1).lower()] = m.group(2).strip()
    for key in ("name", "purpose", "grain", "params"):
        if key not in header:
            raise QueryError(f"{path}: header lacks '-- {key}:'")
    if header["name"] != path.stem:
        raise QueryError(f"{path}: header name {header['name']!r} differs from the file name")
    required, optional = set(), set()
    spec = header["params"]
    if spec.lower() not in ("", "none"):
        for item in spec.split(","):
            item = item.strip()
            m = re.fullmatch(r"\$([a-z_][a-z0-9_]*)(\?)?(\s.*)?", item)
            if not m:
                raise QueryError(f"{path}: cannot read parameter {item!r} (write $name or $name?)")
            (optional if m.group(2) else required).add(m.group(1))
    used = set(PARAM_RE.findall(_body(text)))
    scoped, site_scoped = SCOPE_PARAM in used, SITE_SCOPE_PARAM in used
    used -= {SCOPE_PARAM, SITE_SCOPE_PARAM}
    if used != required | optional:
        raise QueryError(
            f"{path}: parameters used {sorted(used)} differ from those declared {sorted(required | optional)}"
        )
    key, one_row = _key(path, header.get("key"))
    reads_events = re.search(rf"\b{EVENTS_TABLE}\b", _body(text)) is not None
    return SqlFile(
        name=path.stem,
        path=path,
        purpose=header["purpose"],
        grain=header["grain"],
        required=frozenset(required),
        optional=frozenset(optional),
        scoped=scoped,
        access=_access(path, header.get("access", "staff")),
        sql=_body(text),
        key=key,
        one_row=one_row,
        site_scoped=site_scoped,
        reads_events=reads_events,
    )


def _key(path: Path, value: str | None) -> tuple[tuple[str, ...], bool]:
    """The row key a header declares; analytic queries must declare one, internal statements may."""
    if value is None:
        if path.parent == QUERIES_DIR:
            raise QueryError(f"{path}: header lacks '-- key:' (the columns that identify a row, or 'one row')")
        return (), False
    if value.strip().lower() == "one row":
        return (), True
    cols = tuple(c.strip() for c in value.split(","))
    if not all(re.fullmatch(r"[a-z_][a-z0-9_]*", c) for c in cols):
        raise QueryError(f"{path}: cannot read key {value!r} (write column names separated by commas, or 'one row')")
    return cols, False


def _access(path: Path, value: str) -> str:
    value = value.strip().lower()
    if value not in ("all", "staff", "admin"):
        raise QueryError(f"{path}: access must be all, staff or admin")
    return value


def _body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


@functools.cache
def _load_dir(folder: Path) -> dict[str, SqlFile]:
    return {f.stem: parse(f) for f in sorted(folder.glob("*.sql"))}


def named_queries() -> dict[str, SqlFile]:
    return _load_dir(QUERIES_DIR)


def get_query(name: str) -> SqlFile:
    queries = named_queries()
    if name not in queries:
        raise QueryError(f"没有名为 {name!r} 的查询；可用：{', '.join(sorted(queries))}")
    return queries[name]


def statement(name: str) -> str:
    return _load_dir(INTERNAL_DIR)[name].sql


def bind(q: SqlFile, params: dict | None) -> dict:
    """Check a caller's parameters against the header; optional ones default to NULL."""
    params = dict(params or {})
    if SCOPE_PARAM in params:
        raise QueryError(f"{q.name}: {SCOPE_PARAM} comes from the signed-in identity, never from the caller")
    extra = set(params) - q.params
    if extra:
        raise QueryError(f"{q.name}: 未知参数 {sorted(extra)}；可用参数：{sorted(q.params)}")
    missing = {p for p in q.required if params.get(p) in (None, "")}
    if missing:
        raise QueryError(f"{q.name}: 缺少参数 {sorted(missing)}")
    return {p: (params.get(p) if params.get(p) != "" else None) for p in q.params}
