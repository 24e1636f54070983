"""AppTest of 证书 (staff) and 本校证书 (a school leader): status, the certificate list once both have signed,
the paper-certificate form (empty, after the window only) and the totals staff see."""

from __future__ import annotations

from helpers import page_as, rows, table, texts

from examdash.domain import auth, reviews

BATCH = "2023-1"
STAFF_PAGE, SCHOOL_PAGE = "certificates", "school_certificates"


def _settle_open_items(con, school_code: str) -> None:
    staff = auth.reload_user(con, "staff")
    for (item,) in rows(con, "select i.item_id from review_items i join review_requests r using (request_id) "
                             "where r.school_code = $s and i.status in ('已提交', '复核中')", {"s": school_code}):
        reviews.decide(con, staff, item, "维持", "无误")


def test_in_the_publicity_week_there_is_no_list_and_the_paper_form_is_closed(app_env, demo_db_con):
    at = page_as(STAFF_PAGE, "staff", demo_db_con, BATCH)
    assert not at.exception
    assert at.metric[0].label == "可颁发证书院校" and at.metric[0].value.startswith("0 / ")
    assert "当前没有可颁发证书的院校" in texts(at.info)
    school_at = page_as(SCHOOL_PAGE, "school1", demo_db_con, BATCH)
    assert not school_at.exception
    assert school_at.number_input(key="school_certificates_copies").disabled
    assert "结束后方可登记" in "\n".join(m.value for m in school_at.markdown)


def test_a_school_asks_for_paper_certificates_and_gets_its_list_after_both_sign(private_app, monkeypatch):
    leader = auth.reload_user(private_app, "school1")
    _settle_open_items(private_app, leader.school_code)
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-19")
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
    assert not at.exception
    box = at.number_input(key="school_certificates_copies")
    assert box.value is None and not box.disabled  # the form starts empty
    at.button(key="school_certificates_submit").click().run()
    assert "请填写纸质证书数量" in texts(at.error)
    at.number_input(key="school_certificates_copies").set_value(5)
    at.text_input(key="school_certificates_note").set_value("寄教务处 张老师")
    at.button(key="school_certificates_submit").click().run()
    assert "需要纸质证书 5 份" in texts(at.success)
    assert at.number_input(key="school_certificates_copies").value is None  # empty again for the next entry
    assert {m.label: m.value for m in at.metric}["纸质证书"].startswith("5 份")
    assert "证书名单在可颁发证书后提供" in texts(at.info)

    reviews.sign_off(private_app, auth.reload_user(private_app, "staff"), BATCH, leader.school_code)
    reviews.sign_off(private_app, leader, BATCH)
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
    listed = table(at, "准考证号", "姓名", "身份证号")
    passed = rows(private_app, "select count(*) from results where batch_code = $b and school_code = $s and passed",
                  {"b": BATCH, "s": leader.school_code})[0][0]
    assert len(listed) == passed and set(listed["院校代码"]) == {leader.school_code}

    staff_at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    assert not staff_at.exception
    schools = table(staff_at, "院校代码", "院校名称", "省份", "合格人数")
    mine = schools[schools["院校代码"] == leader.school_code].iloc[0]
    assert (int(mine["纸质证书数量"]), mine["备注"], mine["证书状态"]) == (5, "寄教务处 张老师", "可颁发证书")
    assert {m.label: m.value for m in staff_at.metric}["纸质证书（份）"] == "5"
    assert staff_at.selectbox(key="certificates_school").options == [f"{leader.school_code} {leader.school_name}"]
    assert len(table(staff_at, "准考证号", "姓名", "身份证号")) == passed
