"""No results before the exam: sign-ins and scores of a batch not yet sat are refused, the demo's pinned
day leaves 2023-2 (exam 06-16) without results, and pages show the batch's phase instead of zeros."""

from __future__ import annotations

import pytest
from helpers import scalar, table_snapshot, write_frame

from examdash import demo
from examdash.importers import import_file


@pytest.fixture
def frames_2023_2(demo_frames, demo_world):
    regs = demo_frames["registrations"]["2023-2"]
    att = demo.make_attendance(demo_world, regs, 20230529)
    return att, demo.make_scores(demo_world, regs, att, "2023-2", 20230527)


@pytest.mark.parametrize("kind", ["attendance", "scores"])
def test_results_of_a_batch_not_yet_sat_are_refused(kind, fresh_db, frames_2023_2, tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-15")
    frame = frames_2023_2[0 if kind == "attendance" else 1].head(50)
    path = write_frame(frame, tmp_path / f"{kind}_2023-2.csv")
    before = table_snapshot(fresh_db)
    result = import_file(fresh_db, kind, path, batch="2023-2")
    assert not result.ok
    message = next(i.message for i in result.errors if "考试日" in i.message)
    assert "2023-06-16" in message and "2023-06-15" in message and "尚未考试" in message
    assert table_snapshot(fresh_db) == before


def test_on_the_exam_day_the_sign_in_sheet_goes_in(fresh_db, frames_2023_2, tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-16")
    result = import_file(fresh_db, "attendance", write_frame(frames_2023_2[0].head(50), tmp_path / "签到.csv"),
                         batch="2023-2")
    assert result.written and result.added == 50


def test_the_demo_has_no_results_for_the_batch_not_yet_sat(demo_db_con):
    assert scalar(demo_db_con, "select count(*) from registrations where batch_code = '2023-2'") > 0
    for table in ("attendance", "score_versions"):
        assert scalar(demo_db_con, f"select count(*) from {table} where batch_code = '2023-2'") == 0
    assert scalar(demo_db_con, "select count(*) from results where batch_code = '2023-2' and sat") == 0
