"""Large files built in a child process (views/offload.py): the same bytes' content as in process,
progress reported, only listed builders, failures and overruns as messages."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from examdash.store import db
from examdash.store.queries import Scope
from examdash.views import exports, fees, offload


def test_the_statements_zip_from_the_child_holds_every_listed_school(demo_ro):
    marks = []
    data, served = fees.all_statements(demo_ro, Scope(role="staff", school_code=None), None, None)(
        lambda fraction, text: marks.append((fraction, text)))
    here = zipfile.ZipFile(io.BytesIO(fees.statements_zip(demo_ro)))
    there = zipfile.ZipFile(io.BytesIO(data))
    assert there.namelist() == here.namelist() and served == {"schools": len(here.namelist())}
    first = there.namelist()[0]
    sheets = lambda z: {ws.title: list(ws.iter_rows(values_only=True))  # noqa: E731
                        for ws in openpyxl.load_workbook(io.BytesIO(z.read(first)), read_only=True).worksheets}
    assert sheets(there).keys() == sheets(here).keys()
    fractions = [f for f, _ in marks]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(marks) >= 3
    assert any("所院校的对账单" in t for _, t in marks)


def test_a_table_from_the_child_is_the_table():
    table = pd.DataFrame({"准考证号": ["A1", "A2"], "公式": ["=1+1", "@x"], "分数": [61.5, None]})
    data = offload.build("table_xlsx", table, "成绩表")
    assert data[:2] == b"PK"
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["成绩表"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("准考证号", "公式", "分数") and rows[1][1] == "'=1+1" and rows[1][2] == 61.5
    assert openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(table, "成绩表")))["成绩表"]["B2"].value == rows[1][1]


def test_only_listed_builders_run():
    with pytest.raises(ValueError):
        offload.build("os:system", "true")


def test_a_failing_build_is_a_message_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(offload.BuildError, match="生成文件失败"):
        offload.build("table_xlsx", "not a table", "x")
    with pytest.raises(offload.BuildError, match="超过"):
        offload.build("statements_zip", {"balances": None}, db.now(None), seconds=0.01)
    assert not list(tmp_path.glob("examdash_build_*"))
