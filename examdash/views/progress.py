"""What is next: each batch's stage today, the days to its next key date, and the notice's to-dos for
that stage, for the home page of every role (总览 for staff, the school's and the site's own pages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash.domain.calendar import Deadline, next_deadline, stages_on
from examdash.domain.plan import AUDIENCES
from examdash.views.common import Run

RECENT_DAYS = 30  # a batch stays on the panel this long after its certificates start


@dataclass(frozen=True)
class BatchProgress:
    batch_code: str
    batch_name: str
    stages: list[str]  # under way today
    deadline: Deadline | None
    todos: list[str]

    @property
    def headline(self) -> str:
        now = "、".join(self.stages) if self.stages else "阶段之间"
        nxt = self.deadline.text if self.deadline else "证书颁发中，本批次无后续截止日期"
        return f"**{self.batch_name}**　当前阶段：{now}　·　下一节点 {nxt}"


def _day(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def build(run: Run, today: dt.date, audience: str | None) -> list[BatchProgress]:
    """Batches not long past (at least the latest one), oldest first. audience: school / site / staff, or
    None for every to-do with whom it is for (the organiser's overview)."""
    if audience is not None and audience not in AUDIENCES:
        raise ValueError(f"未知的对象 {audience!r}")
    rows, todos = run("batch_stages"), run("stage_todos")
    out = []
    for code, group in rows.groupby("batch_code", sort=False):
        first = group.iloc[0]
        dates = {k: _day(first[k]) for k in ("reg_deadline", "exam_date", "publicity_end", "cert_from")}
        stages = stages_on([(r.stage, _day(r.start_date), _day(r.end_date)) for r in group.itertuples()], today)
        mine = todos[todos.stage.isin(stages)]
        if audience is not None:
            mine = mine[mine.audience == audience]
        order = {s: i for i, s in enumerate(stages)}
        mine = mine.assign(_o=mine.stage.map(order)).sort_values(["_o", "seq"])
        texts = [t if audience else f"【{AUDIENCES[a]}】{t}" for a, t in zip(mine.audience, mine.text)]
        out.append((dates["cert_from"], BatchProgress(code, first.batch_name, stages, next_deadline(dates, today), texts)))
    recent = [p for cert, p in out if (today - cert).days <= RECENT_DAYS]
    return recent or [p for _, p in out[-1:]]
