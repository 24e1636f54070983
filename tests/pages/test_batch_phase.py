"""No results before the exam: sign-ins and scores of a batch not yet sat are refused, the demo's pinned
day leaves 2023-2 (exam 06-16) without results, and pages show the batch's phase instead of zeros."""

from __future__ import annotations

import time

import pytest
from helpers import ROOT
from streamlit.testing.v1 import AppTest

from examdash import web
from examdash.domain import auth


def _run(page: str, username: str, batch: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state[web.USER_KEY] = auth.reload_user(web.con(), username)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    at.selectbox(key="filters_batch").set_value(batch).run()
    return at


@pytest.mark.parametrize("page, username", [("app_pages/attendance.py", "staff"), ("app_pages/scores.py", "staff"),
                                            ("app_pages/school.py", "school1")])
def test_result_pages_show_the_phase_before_the_exam(app_env, page, username):
    at = _run(page, username, "2023-2")
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "考试日 2023-06-16" in infos and "还有 2 天" in infos, infos
    assert not at.metric and not at.dataframe
    assert not at.get("plotly_chart")


def test_the_same_pages_show_results_after_the_exam(app_env):
    at = _run("app_pages/scores.py", "staff", "2023-1")
    assert not at.exception and at.metric and not any("考试日" in i.value for i in at.info)


def test_overview_names_the_phase_instead_of_zero_results(app_env):
    at = _run("app_pages/overview.py", "staff", "2023-2")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["实考人数"] == "未考试" and metrics["合格率"] == "未考试"
    assert any("考试日 2023-06-16" in i.value for i in at.info)
