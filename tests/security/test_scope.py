"""Security: a school user never reaches another school's rows, through any query, page, download,
cache, session value or URL; organiser pages refuse them."""

import time

import pytest
from helpers import ROOT
from streamlit.testing.v1 import AppTest

from examdash import web
from examdash.demo import DEMO_PASSWORD
from examdash.domain import auth
from examdash.store import queries
from examdash.store.sql_files import QueryError, named_queries
from examdash.web import navigation

APP = str(ROOT / "app.py")
PERSONAL = {"id_no", "name", "ticket_no", "身份证号", "姓名", "准考证号"}


def _schools(con):
    rows = con.execute(
        "select school_code from results where batch_code = '2023-1' group by all order by count(*) desc limit 2"
    ).fetchall()
    return rows[0][0], rows[1][0]


def _params_for(q, con, other_school):
    site = con.execute("select site_code from sites where school_code = $s", {"s": other_school}).fetchall()
    other_province = con.execute("select province from schools where school_code = $s", {"s": other_school}).fetchall()[0][0]
    ticket = con.execute("select ticket_no from results where school_code = $s and batch_code = '2023-1' limit 1",
                         {"s": other_school}).fetchall()[0][0]
    values = {"batch": "2023-1", "school": other_school, "school_code": other_school, "ticket": ticket,
              "site": site[0][0] if site else None, "province": other_province, "since": "2000-01-01",
              "today": "2023-06-14", "id_tail": "000000"}
    return {p: values.get(p) for p in q.params if p in values or p in q.required}


def test_every_named_query_is_scoped_refused_or_aggregate(demo_db_con):
    own, other = _schools(demo_db_con)
    scope = queries.Scope(role="school", school_code=own, username="t")
    checked = 0
    for name, q in named_queries().items():
        params = _params_for(q, demo_db_con, other)
        if any(params.get(p) is None for p in q.required):
            pytest.fail(f"{name}: the test does not know a value for required params {sorted(q.required)}")
        if q.scoped:
            df = queries.run(demo_db_con, name, params, scope)
            for col in ("school_code", "院校代码"):
                if col in df:
                    assert set(df[col].dropna()) <= {own}, f"{name} leaked another school's rows"
            if "id_no" in df:
                own_ids = {r[0] for r in demo_db_con.execute(
                    "select id_no from registrations where school_code = $s", {"s": own}).fetchall()}
                assert set(df["id_no"].dropna()) <= own_ids, f"{name} leaked candidates"
        elif q.access == "all":
            df = queries.run(demo_db_con, name, params, scope)
            assert not (PERSONAL & set(df.columns)), f"{name} is open to every role but returns personal columns"
            assert "school_code" not in df or name in ("filter_options",), f"{name} returns school rows to all roles"
        else:
            with pytest.raises(PermissionError):
                queries.run(demo_db_con, name, params, scope)
        checked += 1
    assert checked == len(named_queries()) >= 10


def test_scope_cannot_be_passed_as_a_parameter(demo_db_con):
    with pytest.raises(QueryError):
        queries.run(demo_db_con, "school_results_by_level", {"batch": "2023-1", "school": "x", "scope_school": None},
                    queries.Scope(role="school", school_code="x"))


def test_school_scope_wins_over_a_parameter_naming_another_school(demo_db_con):
    own, other = _schools(demo_db_con)
    df = queries.run(demo_db_con, "school_results_by_level", {"batch": "2023-1", "school": other},
                     queries.Scope(role="school", school_code=own))
    assert df.empty
    staff = queries.run(demo_db_con, "school_results_by_level", {"batch": "2023-1", "school": other}, queries.FULL_SCOPE)
    assert staff["registered"].sum() > 0


def _school_user(con):
    code = con.execute("select school_code from users where username = 'school1'").fetchall()[0][0]
    name = con.execute("select school_name from schools where school_code = $c", {"c": code}).fetchall()[0][0]
    return auth.User("school1", "school1", "school", code, name)


def _login(at, username, password):
    at.text_input(key="login_username").set_value(username)
    at.text_input(key="login_password").set_value(password)
    at.button(key="login_submit").click().run()
    return at


def test_school_menu_has_only_school_pages_and_organiser_pages_cannot_be_opened(app_env):
    at = _login(AppTest.from_file(APP, default_timeout=30).run(), "school1", DEMO_PASSWORD["school"])
    assert not at.exception
    for spec in navigation.PAGES:
        if "school" in spec.roles:
            continue
        with pytest.raises(Exception):
            at.switch_page(spec.path).run()


@pytest.mark.parametrize("spec", [p for p in navigation.PAGES if "school" not in p.roles], ids=lambda p: p.url)
def test_organiser_page_run_directly_refuses_a_school_user(app_env, demo_db_con, spec):
    at = AppTest.from_file(str(ROOT / spec.path), default_timeout=30)
    at.session_state[web.USER_KEY] = _school_user(demo_db_con)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    assert any("无权访问" in e.value for e in at.error)
    assert len(at.dataframe) == 0 and len(at.metric) == 0


@pytest.mark.parametrize("spec", [p for p in navigation.PAGES if p.roles == ("admin",)], ids=lambda p: p.url)
def test_admin_pages_refuse_staff(app_env, spec):
    at = AppTest.from_file(str(ROOT / spec.path), default_timeout=30)
    at.session_state[web.USER_KEY] = auth.User("staff", "考务专员", "staff", None)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    assert any("无权访问" in e.value for e in at.error)


def test_pages_refuse_without_login(app_env):
    for spec in navigation.PAGES:
        at = AppTest.from_file(str(ROOT / spec.path), default_timeout=30).run()
        assert any("请先登录" in w.value for w in at.warning), spec.path
        assert len(at.dataframe) == 0


def test_school_portal_ignores_url_and_session_values_naming_another_school(app_env, demo_db_con):
    me = _school_user(demo_db_con)
    own, other = me.school_code, next(c for c in _schools(demo_db_con) if c != me.school_code)
    at = AppTest.from_file(str(ROOT / "app_pages/school.py"), default_timeout=30)
    at.query_params["school"] = other
    at.session_state[web.USER_KEY] = me
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.session_state["_filter_school"] = other
    at.run()
    assert not at.exception
    shown = at.dataframe[-1].value
    ids = set(shown["身份证号"] if "身份证号" in shown else shown["id_no"])
    own_ids = {r[0] for r in demo_db_con.execute(
        "select id_no from results where school_code = $s and batch_code = '2023-1'", {"s": own}).fetchall()}
    assert ids and ids <= own_ids


def test_expired_session_returns_to_login(app_env, monkeypatch):
    at = _login(AppTest.from_file(APP, default_timeout=30).run(), "staff", DEMO_PASSWORD["staff"])
    assert at.title[0].value.startswith("总览")
    at.session_state[web.SEEN_KEY] = time.monotonic() - 10 * 3600
    at.run()
    assert any("超时" in i.value for i in at.info)
    assert at.text_input(key="login_username")


def test_wrong_password_in_the_form_shows_an_error(app_env):
    at = _login(AppTest.from_file(APP, default_timeout=30).run(), "staff", "not-the-password1")
    assert any("用户名或密码错误" in e.value for e in at.error)
    assert len(at.metric) == 0
