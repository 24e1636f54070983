"""AppTest of the 报名, 考勤 and 成绩 pages: staff signed in, every shared filter driven, the figures
shown compared with pandas on the demo export files."""

from __future__ import annotations

import analytics_expected as ex
import pytest
from helpers import ROOT, metrics, page_as, sign_in
from streamlit.testing.v1 import AppTest

from examdash.demo import DEMO_PASSWORD

PAGES = ["app_pages/registrations.py", "app_pages/attendance.py", "app_pages/scores.py"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_refuse_a_school_account(app_env, demo_db_con, page):
    at = page_as(page, sign_in(demo_db_con, "school1"))
    assert not at.exception
    assert any("无权访问" in e.value for e in at.error)
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("page", PAGES)
def test_pages_without_sign_in_stop(app_env, page):
    at = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
    assert not at.exception
    assert any("请先登录" in w.value for w in at.warning)
    assert not at.dataframe


@pytest.mark.parametrize("page", PAGES)
def test_pages_open_from_the_menu_after_the_login_form(app_env, page, cand):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.text_input(key="login_username").set_value("staff")
    at.text_input(key="login_password").set_value(DEMO_PASSWORD["staff"])
    at.button(key="login_submit").click().run()
    assert not at.exception
    at.switch_page(page).run()
    assert not at.exception
    registered = len(ex.select(cand, "2023-1"))
    assert metrics(at)["报名人数" if "scores" not in page else "报名"] == f"{registered:,}"
