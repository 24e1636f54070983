"""Large files built in the background (web.file_job) on the 成绩 and 费用 pages: a 生成 button, then
the page's own progress while the page keeps answering, then a download checked and audited at the
click; a failure is a message with a retry; other filters or new data offer a new build."""

from __future__ import annotations

import io
import re
import threading

import openpyxl
from helpers import app_rows, click_download, finish_file_job, held_until, page_as, sign_in

from examdash import web
from examdash.store import db
from examdash.views import scores

PAGE = "app_pages/scores.py"
KEY = "scores_table_download_xlsx"


def test_a_build_runs_beside_the_page_and_is_offered_for_its_filters_and_data(private_app, deferred, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(scores, "score_xlsx_job", held_until(release, scores.score_xlsx_job))
    at = page_as(PAGE, sign_in(private_app, "staff"))
    at.button(key=f"{KEY}_start").click().run()
    job = at.session_state[web.JOBS_KEY][KEY]
    assert not job.done and not [b for b in at.get("download_button") if b.key == KEY]
    at.selectbox(key="filters_level").set_value("中级").run()  # the page answers while the job runs
    assert not at.exception and at.button(key=f"{KEY}_start")  # another table: another build
    at.selectbox(key="filters_level").set_value("全部").run()
    assert at.session_state[web.JOBS_KEY][KEY] is job
    release.set()
    button = finish_file_job_waiting(at, job)
    data = click_download(deferred, button)
    assert data[:2] == b"PK"
    assert app_rows(private_app, "select target, detail from request_events where action = 'download' "
                                 "order by event_id desc limit 1")[0][0].endswith(".xlsx")
    with db.transaction(private_app) as cur:  # new data: the finished file is not offered any more
        db.bump_version(cur)
    at.run()
    assert not [b for b in at.get("download_button") if b.key == KEY] and at.button(key=f"{KEY}_start")


def finish_file_job_waiting(at, job):
    while not job.done:
        threading.Event().wait(0.1)
    at.run()
    return next(b for b in at.get("download_button") if b.key == KEY)


def test_a_failed_build_says_so_and_can_be_retried(private_app, monkeypatch):
    def broken(run, f, masked):
        def build(progress):
            raise RuntimeError("磁盘已满")
        return build

    monkeypatch.setattr(scores, "score_xlsx_job", broken)
    at = page_as(PAGE, sign_in(private_app, "staff"))
    at.button(key=f"{KEY}_start").click().run()
    job = at.session_state[web.JOBS_KEY][KEY]
    while not job.done:
        threading.Event().wait(0.1)
    at.run()
    assert any("生成失败" in e.value and "磁盘已满" in e.value and "错误编号" in e.value for e in at.error)
    at.button(key=f"{KEY}_retry").click().run()
    assert at.button(key=f"{KEY}_start") and KEY not in at.session_state[web.JOBS_KEY]


def test_a_school_leader_builds_no_organiser_file(private_app):
    at = page_as(PAGE, sign_in(private_app, "school1"))
    assert not [b for b in at.button if b.key == f"{KEY}_start"]


def test_the_whole_batch_xlsx_holds_every_row(private_app, deferred):
    at = page_as(PAGE, sign_in(private_app, "staff"))
    shown = next(c.value for c in at.caption if c.value.startswith("共 "))
    total = int(re.match(r"共 ([\d,]+) 人", shown).group(1).replace(",", ""))
    data = click_download(deferred, finish_file_job(at, KEY))
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    assert total > 1000 and sum(1 for _ in ws.iter_rows(values_only=True)) - 1 == total
