"""The layers of the code (docs/ARCHITECTURE.md) as a test: who may import whom, read from the source.

Every import counts, also one inside a function: a lazy import is still a dependency. The rules:

    pages/, app.py, serve.py -> web, views                (never the store, duckdb, importers or SQL)
    web              -> views, domain, store, config   (+ streamlit, plotly)
    cli              -> views, importers, demo, domain, store, config   (never streamlit)
    views            -> demo, importers, domain, store, config   (never streamlit or web)
    demo             -> importers, domain, store, config
    importers        -> domain, store, config
    domain services  -> pure domain, store, config   (auth, fees, reviews)
    store            -> pure domain, config          (rules, plan: the constants the schema is filled from)
    pure domain      -> pure domain, config          (no store, no I/O besides reading the plan file)
    config           -> nothing of ours

and no import cycle among the modules' top-level imports.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from helpers import ROOT

PURE_DOMAIN = {"rules", "plan", "calendar", "ids", "money", "glossary"}

ALLOWED = {
    "pages": {"web", "views"},
    "web": {"web", "views", "domain", "pure", "store", "config"},
    "cli": {"cli", "views", "importers", "demo", "domain", "pure", "store", "config"},
    "views": {"views", "demo", "importers", "domain", "pure", "store", "config"},
    "demo": {"importers", "domain", "pure", "store", "config"},
    "importers": {"importers", "domain", "pure", "store", "config"},
    "domain": {"domain", "pure", "store", "config"},
    "store": {"store", "pure", "config"},
    "pure": {"pure", "config"},
    "config": set(),
    "package": {"cli"},  # examdash/__main__.py runs the command line
}

# Third-party libraries that belong to one layer only.
CONFINED = {
    "duckdb": {"store", "importers"},
    "streamlit": {"web", "pages"},
    "plotly": {"web"},
    "argon2": {"domain"},
    "psycopg": {"store"},  # the application database on a PostgreSQL deployment (store/appdb.py)
    "starlette": {"web", "pages"},  # the plain HTTP routes (web/lookup_route.py) and serve.py
}


def sources() -> list[Path]:
    return sorted((ROOT / "examdash").rglob("*.py")) + sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py", ROOT / "serve.py"]


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer(module: str) -> str:
    """The layer of one of our modules (examdash.x.y, app_pages.x, app) or '' for anything else."""
    parts = module.split(".")
    if parts[0] in ("app_pages", "app", "serve"):
        return "pages"
    if parts[0] != "examdash":
        return ""
    if len(parts) == 1 or parts[1] == "__main__":
        return "package"
    if parts[1] == "domain":
        return "pure" if len(parts) > 2 and parts[2] in PURE_DOMAIN else "domain"
    return parts[1]


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, int, bool]]:
    """(module imported, line, at top level) for every import in a file, relative ones resolved; for
    `from package import name` the submodule package.name when there is one."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            for a in node.names:
                sub = f"{name}.{a.name}"
                is_module = (ROOT / Path(*sub.split("."))).with_suffix(".py").exists() \
                    or (ROOT / Path(*sub.split(".")) / "__init__.py").exists()
                found.append((sub if is_module else name, node.lineno, id(node) in top))
    return found


def test_every_source_file_has_a_layer():
    assert all(layer(module_name(p)) for p in sources())


def breaches(paths: list[Path], root: Path = ROOT) -> list[str]:
    """One line per import that breaks the rules."""
    wrong = []
    for path in paths:
        where = path.relative_to(root)
        mine = layer(module_name(path, root))
        for target, line, _ in imports(path, root):
            theirs = layer(target)
            if theirs and theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{where}:{line} ({mine}) imports {target} ({theirs})")
            lib = target.split(".")[0]
            if lib in CONFINED and mine not in CONFINED[lib]:
                wrong.append(f"{where}:{line} ({mine}) imports {lib}, which only "
                             f"{', '.join(sorted(CONFINED[lib]))} may")
    return wrong


def test_layers_import_only_what_they_may():
    wrong = breaches(sources())
    assert not wrong, "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path that ends where it starts, or []."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, trail: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                path = trail + [node]
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, trail + [node])):
                return found
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return []


def test_no_import_cycles():
    graph: dict[str, set[str]] = defaultdict(set)
    ours = {module_name(p) for p in sources()}
    for path in sources():
        for target, _, at_top in imports(path):
            if at_top and target in ours and target != module_name(path):
                graph[module_name(path)].add(target)
    assert find_cycle(graph) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]


def test_the_check_reports_a_breach(tmp_path):
    """The check itself bites: a page that imports the store and duckdb, and a view that imports streamlit."""
    (tmp_path / "app_pages").mkdir()
    (tmp_path / "examdash" / "views").mkdir(parents=True)
    page = tmp_path / "app_pages" / "probe.py"
    page.write_text("from examdash.store import db\nimport duckdb\n", encoding="utf-8")
    view = tmp_path / "examdash" / "views" / "probe.py"
    view.write_text("def f():\n    import streamlit as st\n    from examdash import web\n", encoding="utf-8")
    assert breaches([page, view], tmp_path) == [
        "app_pages/probe.py:1 (pages) imports examdash.store.db (store)",
        "app_pages/probe.py:2 (pages) imports duckdb, which only importers, store may",
        "examdash/views/probe.py:2 (views) imports streamlit, which only pages, web may",
        "examdash/views/probe.py:3 (views) imports examdash.web (web)",
    ]


def test_pages_hold_no_sql():
    words = ("select ", "insert into", "update ", "delete from", "execute(", "duckdb")
    hits = [f"{p.relative_to(ROOT)}: {w.strip()}" for p in sources() if layer(module_name(p)) == "pages"
            for w in words if w in p.read_text(encoding="utf-8").lower()]
    assert not hits, hits

