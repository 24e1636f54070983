"""Fixtures for tests that run the Streamlit app (AppTest) against a copy of the seeded demo database."""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def app_db_path(demo_db_path, tmp_path_factory) -> Path:
    """A session copy of the demo database for the app (logins write to its audit log)."""
    target = tmp_path_factory.mktemp("appdb") / "app.duckdb"
    shutil.copyfile(demo_db_path, target)
    return target


@pytest.fixture()
def app_env(app_db_path, monkeypatch):
    """Run AppTest from the repo root against the app database."""
    monkeypatch.setenv("EXAMDASH_DB", str(app_db_path))
    monkeypatch.chdir(ROOT)
    import streamlit as st

    st.cache_data.clear()
    yield app_db_path


@pytest.fixture()
def demo_db_con(app_env):
    """A connection to the same database file the app uses (same process, same DuckDB instance)."""
    from examdash.store import db

    con = db.connect(app_env)
    yield con
    con.close()
