"""The score table downloads the 成绩 page offers: every filtered row, masked unless asked, formula-safe,
scoped, the filters in the file name. Bytes come from the same analytics functions the page calls."""

from __future__ import annotations

import io

import analytics_expected as ex
import openpyxl
import pandas as pd
import pytest
from helpers import BATCH, app_rows

from examdash import demo
from examdash.domain import ids
from examdash.importers import import_file
from examdash.store import queries
from examdash.store.queries import Scope
from examdash.views import common, scores
from examdash.views.common import Filters

COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方")
ID_MASKED = r"\d{6}\*{8}[0-9X]{4}"


@pytest.fixture(scope="module")
def con(demo_ro):
    return demo_ro


def masked_name(name: str) -> str:
    keep = 2 if name[:2] in COMPOUND and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)


def xlsx_frame(data: bytes) -> pd.DataFrame:
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def csv_frame(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel shows Chinese
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_masked_downloads_carry_every_filtered_row(con, cand):
    f = Filters(BATCH, province="广东省", level="初级")
    d = ex.select(cand, BATCH, province="广东省", level="初级").set_index("ticket_no")
    query_rows = len(queries.run(con, "candidate_scores", f.params()))
    assert len(d) == query_rows > 50
    run = common.runner(con)

    data, name, mime = scores.score_download(run, f, True, "xlsx")
    assert name == "成绩表_2023-1_初级_广东省.xlsx" and mime.endswith("spreadsheetml.sheet")
    sheet = xlsx_frame(data)
    assert len(sheet) == len(d)
    assert list(sheet.columns[:4]) == ["考试批次", "准考证号", "姓名", "身份证号"]
    assert sorted(sheet["准考证号"]) == sorted(d.index)
    assert sheet["姓名"].tolist() == [masked_name(n) for n in d.loc[sheet["准考证号"], "name"]]
    assert sheet["身份证号"].str.fullmatch(ID_MASKED).all()
    assert sheet["身份证号"].tolist() == [i[:6] + "*" * 8 + i[-4:] for i in d.loc[sheet["准考证号"], "id_no"]]
    assert set(sheet["是否合格"]) <= {"合格", "不合格", "—"}
    assert (sheet["是否合格"] == "合格").sum() == d.passed.sum()

    data, name, mime = scores.score_download(run, f, True, "csv")
    assert name == "成绩表_2023-1_初级_广东省.csv" and mime == "text/csv"
    table = csv_frame(data)
    assert len(table) == len(d)
    assert table["准考证号"].tolist() == sheet["准考证号"].tolist()  # text, leading zeros kept
    assert table["姓名"].str.contains(r"\*").all()
    assert table["身份证号"].str.fullmatch(ID_MASKED).all()
    assert not set(table["姓名"]) & set(d.name)


def test_unfiltered_download_is_not_limited_to_the_page(con, cand):
    d = ex.select(cand, BATCH)
    data, name, _ = scores.score_download(common.runner(con), Filters(BATCH), True, "csv")
    assert name == "成绩表_2023-1.csv"
    assert len(csv_frame(data)) == len(d) > scores.TABLE_ROWS


def test_unmasked_download_has_full_names_and_ids(con, cand):
    site = cand[cand.batch == BATCH].site_code.iat[0]
    d = ex.select(cand, BATCH, site=site).set_index("ticket_no")
    data, name, _ = scores.score_download(common.runner(con), Filters(BATCH, site=site), False, "xlsx")
    assert name == f"成绩表_2023-1_{site}.xlsx"
    sheet = xlsx_frame(data)
    assert len(sheet) == len(d)
    assert sheet["姓名"].tolist() == d.loc[sheet["准考证号"], "name"].tolist()
    assert sheet["身份证号"].tolist() == d.loc[sheet["准考证号"], "id_no"].tolist()


def test_school_scope_download_holds_only_the_school(con, cand):
    counts = ex.select(cand, BATCH).school_code.value_counts()
    own, other = counts.index[0], counts.index[1]
    run = common.runner(con, Scope(role="school", school_code=own, username="school1"))
    sheet = xlsx_frame(scores.score_download(run, Filters(BATCH), False, "xlsx")[0])
    assert len(sheet) == counts[own] and set(sheet["院校代码"]) == {own}
    sheet = csv_frame(scores.score_download(run, Filters(BATCH, school=other), False, "csv")[0])
    assert sheet.empty


FORMULAS = ['=HYPERLINK("http://example.com","点我")', "+86机构", "-1+2", "@SUM(A1:A9)"]


def test_formulas_in_names_are_neutralised(fresh_db, fresh_db_path, tmp_path, cand):
    """Candidates whose names Excel would run as formulas, imported like any registration file."""
    base = cand[(cand.batch == "2023-2") & (cand.candidate_type == "在校生")].iloc[0]
    rows = []
    for k, name in enumerate(FORMULAS):
        first17 = f"11010519800229{k + 901:03d}"
        rows.append({"考试批次": "2023-2", "姓名": name, "身份证号": first17 + ids.id_check_char(first17),
                     "级别": "初级", "院校代码": base.school_code, "考点代码": base.site_code, "考生类型": "在校生",
                     "报名时间": "2023-05-20 10:00:00", "准考证号": f"2399991{k:05d}", "报名状态": "正常"})
    path = tmp_path / "报名_公式.csv"
    demo.write_csv(pd.DataFrame(rows), path, "utf-8-sig")
    result = import_file(fresh_db, "registrations", path, actor="test", db_file=fresh_db_path)
    assert result.ok, result.lines()

    f = Filters("2023-2", school=base.school_code, level="初级")
    run = common.runner(fresh_db)
    for masked in (False, True):
        wb = openpyxl.load_workbook(io.BytesIO(scores.score_download(run, f, masked, "xlsx")[0]))
        ws = wb.worksheets[0]
        header = [c.value for c in ws[1]]
        col = header.index("姓名") + 1
        cells = {ws.cell(r, header.index("准考证号") + 1).value: ws.cell(r, col) for r in range(2, ws.max_row + 1)}
        for k, name in enumerate(FORMULAS):
            cell = cells[f"2399991{k:05d}"]
            assert cell.data_type == "s"  # text, never a formula
            shown = name if not masked else masked_name(name)
            assert cell.value == "'" + shown
        table = csv_frame(scores.score_download(run, f, masked, "csv")[0]).set_index("准考证号")
        for k, name in enumerate(FORMULAS):
            assert table.loc[f"2399991{k:05d}", "姓名"] == "'" + (name if not masked else masked_name(name))
        assert not any(str(v).startswith(("=", "+", "-", "@")) for v in table.to_numpy().ravel())


def test_deferred_download_audits_when_built_as_the_user_who_clicked(fresh_db, monkeypatch, cand):
    """The score table's download is built outside the script, on click: the scope and the user are
    the ones captured on the page, and the audit entry is written then, with the rows served."""
    import time

    from examdash import web
    from examdash.domain import auth

    school = auth.reload_user(fresh_db, "school1")
    own = school.school_code
    counts = ex.select(cand, BATCH).school_code.value_counts()
    monkeypatch.setattr(web, "con", lambda: fresh_db)
    monkeypatch.setattr(web, "guard", lambda: web.SessionGuard(school, time.monotonic()))
    monkeypatch.setattr(web, "scope", lambda: Scope(role="school", school_code=own, username="school1"))
    f = Filters(BATCH)
    run = common.runner(web.con(), web.scope())  # what the page takes while it runs
    build = web.deferred(scores.score_file(run, f, True, "csv"), scores.score_download_name(f, "csv"),
                         {"filters": f.describe(), "masked": True, "format": "csv"})
    monkeypatch.setattr(web, "current_user", lambda: None)  # the session is gone when the click comes
    monkeypatch.setattr(web, "scope", lambda: pytest.fail("scope read outside the script"))
    before = app_rows(fresh_db, "select count(*) from request_events")[0][0]
    sheet = csv_frame(build())
    assert len(sheet) == counts[own] and set(sheet["院校代码"]) == {own}
    rows = app_rows(fresh_db, "select actor, action, target, detail from request_events order by event_id desc limit 1")[0]
    assert app_rows(fresh_db, "select count(*) from request_events")[0][0] == before + 1
    actor, action, target, detail = rows
    assert (actor, action) == ("school1", "download")
    assert target == scores.score_download_name(Filters(BATCH), "csv")
    assert f'"rows": {counts[own]}' in detail and '"masked": true' in detail
