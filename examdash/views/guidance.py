"""What to import next: the guidance a page shows where its data is missing (a new store after `init`, one
with only the schools and sites, a batch of the plan nobody has registered for yet), worded for who reads
it: an admin imports on the 导入 page; staff, school leaders and exam sites are told whom to ask.

Pages call `build` with the kinds they show, in any order (what those need imported first counts too); the
answer names the first kind missing in the README's import order and the ones after it, and `lacks` tells a
page to stop where its main data is missing (empty charts and zeros say nothing). Sign-ins and scores count
as missing only once the batch has been sat: before that the page shows the batch's phase instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from examdash.importers.kinds import KINDS
from examdash.views.common import Run, batch_phase, current_batch

# The README's import order; the file each kind comes from, as the exam office calls it.
ORDER = ("schools", "sites", "registrations", "attendance", "scores", "fee-standards", "payments")
FILES = {"schools": "院校名单", "sites": "考点名单", "registrations": "报名表", "attendance": "签到表", "scores": "成绩表",
         "fee-standards": "收费标准", "payments": "银行到账流水"}
RESULTS = ("attendance", "scores")  # exist only once the batch has been sat
# What has to be in before a kind is worth importing: the importers refuse sites, registrations, sign-ins and
# scores whose links are missing, and payments are matched to the schools.
NEEDS = {"sites": ("schools",), "registrations": ("schools", "sites"), "attendance": ("registrations",),
         "scores": ("registrations",), "payments": ("schools",)}
PEOPLE = ("schools", "sites", "registrations")
FEES = ("schools", "registrations", "fee-standards", "payments")
SCORES = ("registrations", "scores")


@dataclass(frozen=True)
class Guidance:
    missing: tuple[str, ...] = ()  # kinds the page needs that are not there yet, in import order
    text: str | None = None  # what to import next, and who does it

    def lacks(self, kind: str) -> bool:
        return kind in self.missing


def build(run: Run, role: str, batch: str | None, today: dt.date, need: tuple[str, ...]) -> Guidance:
    """What of `need` is missing for this role's scope in `batch` (None: every batch), and what to do."""
    unknown = set(need) - set(ORDER)
    if unknown:
        raise ValueError(f"未知的数据类型 {sorted(unknown)}")
    s = run("data_status", batch=batch).iloc[0]
    have = {"schools": s.schools, "sites": s.sites, "registrations": s.registered, "attendance": s.attended,
            "scores": s.scored, "fee-standards": s.fee_standards, "payments": s.payments}
    sat = batch is None or batch_phase(run, batch, today).has_results
    wanted = set(need)
    for kind in reversed(ORDER):  # a kind's prerequisites come before it in ORDER
        if kind in wanted:
            wanted.update(NEEDS.get(kind, ()))
    missing = tuple(k for k in ORDER if k in wanted and not int(have[k]) and (sat or k not in RESULTS))
    if not missing:
        return Guidance()
    first = missing[0]
    if first == "registrations" and role in ("school", "site") and bool(s.batch_registered):
        # The batch's registrations are in; none of them is this school's (or sits at this site).
        which = "该批次的" if batch else ""
        return Guidance(missing, f"还没有{_what(first, batch, role)}：{which}报名表已导入，其中没有{_mine(role)}的考生；"
                                 "如有遗漏，请联系考务人员核对报名表。")
    return Guidance(missing, f"还没有{_what(first, batch, role)}：{_who(first, role)}{_then(missing[1:])}。")


def next_import(run: Run, role: str, today: dt.date) -> Guidance:
    """For the 导入 page: what to import next for the batch people are working on today."""
    batches = run("batches")
    batch = current_batch(batches, today) if len(batches) else None
    return build(run, role, batch, today, ORDER)


def _mine(role: str) -> str:
    return {"school": "本校", "site": "本考点"}.get(role, "")


def _what(kind: str, batch: str | None, role: str) -> str:
    if kind in ("registrations", "attendance", "scores"):
        noun = {"registrations": "报名数据", "attendance": "签到记录", "scores": "成绩"}[kind]
        mine = _mine(role)
        if not batch:
            return f"{mine}的{noun}" if mine else noun
        return f"{mine}在 {batch} 批次的{noun}" if mine else f" {batch} 批次的{noun}"
    if kind == "payments":
        return f"{_mine(role)}的到账记录" if _mine(role) else "银行到账流水"
    return {"schools": "院校名单", "sites": "考点名单", "fee-standards": "省级收费标准"}[kind]


def _who(kind: str, role: str) -> str:
    if role == "admin":
        return f"请先在「导入」页导入{FILES[kind]}（文件类型「{KINDS[kind].label}」）"
    if role in ("school", "site"):
        return f"数据由考务人员统一导入，请联系考务人员（管理员）导入{FILES[kind]}"
    return f"只有管理员能导入数据，请联系管理员在「导入」页导入{FILES[kind]}"


def _then(rest: tuple[str, ...]) -> str:
    return f"，之后再依次导入{'、'.join(FILES[k] for k in rest)}" if rest else ""
