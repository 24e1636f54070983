"""A batch's calendar seen from a given day: its phase, and its publicity window (成绩公示) with the
countdowns the pages show. Dates are Asia/Shanghai calendar days, ranges inclusive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    """Where a batch stands on a given day, in one sentence for the pages."""

    key: str  # registration / preparing / exam_day / awaiting_scores / publicity / certificates
    text: str
    has_results: bool  # the exam has been sat: sign-ins and scores can exist (they are refused before)


def phase(exam_date: dt.date, reg_deadline: dt.date, publicity_start: dt.date, publicity_end: dt.date,
          cert_from: dt.date, today: dt.date) -> Phase:
    days = lambda d: (d - today).days  # noqa: E731
    if today <= reg_deadline:
        return Phase("registration", f"报名中：{reg_deadline:%Y-%m-%d} 截止（还有 {days(reg_deadline)} 天，含今天），"
                                     f"考试日 {exam_date:%Y-%m-%d}；考试后才有签到与成绩", False)
    if today < exam_date:
        return Phase("preparing", f"报名已截止，考试日 {exam_date:%Y-%m-%d}（还有 {days(exam_date)} 天）；"
                                  "考试后才有签到与成绩", False)
    if today == exam_date:
        return Phase("exam_day", "今天是考试日：签到表与成绩在考后导入", True)
    if today < publicity_start:
        return Phase("awaiting_scores", f"已于 {exam_date:%Y-%m-%d} 考试，成绩公示 {publicity_start:%Y-%m-%d} 开始"
                                        f"（还有 {days(publicity_start)} 天）", True)
    if today <= publicity_end:
        return Phase("publicity", f"成绩公示期 {publicity_start:%Y-%m-%d} 至 {publicity_end:%Y-%m-%d}", True)
    return Phase("certificates", f"成绩公示期已结束，证书自 {cert_from:%Y-%m-%d} 起颁发", True)


@dataclass(frozen=True)
class Window:
    """A batch's publicity window and certificate date."""

    batch_code: str
    batch_name: str
    start: dt.date
    end: dt.date
    cert_from: dt.date

    def state(self, today: dt.date) -> str:
        if today < self.start:
            return "before"
        if today <= self.end:
            return "open"
        return "closed"

    def is_open(self, today: dt.date) -> bool:
        return self.state(today) == "open"

    def is_over(self, today: dt.date) -> bool:
        return today > self.end

    def days_to_open(self, today: dt.date) -> int:
        return max((self.start - today).days, 0)

    def days_left(self, today: dt.date) -> int:
        """Days of the window still available, today included (0 once it is over)."""
        if today > self.end:
            return 0
        return (self.end - max(today, self.start)).days + 1

    def days_to_cert(self, today: dt.date) -> int:
        return max((self.cert_from - today).days, 0)

    def line(self, today: dt.date) -> str:
        """The window's state and the days to certificates, for a page's caption."""
        state = self.state(today)
        if state == "before":
            head = f"成绩公示期 {self.span}，{self.days_to_open(today)} 天后开始"
        elif state == "open":
            head = f"成绩公示期 {self.span}，剩余 {self.days_left(today)} 天（含今天）"
        else:
            head = f"成绩公示期 {self.span} 已结束"
        cert = (f"距颁发证书（{self.cert_from:%m-%d} 起）还有 {self.days_to_cert(today)} 天" if today < self.cert_from
                else f"证书自 {self.cert_from:%Y-%m-%d} 起颁发")
        return f"{head}；{cert}"

    def remaining(self, today: dt.date) -> str:
        """What is left of the window, in a few words for a metric."""
        return {"before": f"{self.days_to_open(today)} 天后开始", "open": f"{self.days_left(today)} 天",
                "closed": "已结束"}[self.state(today)]

    @property
    def span(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def describe(self, today: dt.date) -> str:
        """One sentence for the filing form: when it opens, how long it stays open, or that it closed."""
        state = self.state(today)
        if state == "before":
            return (f"{self.batch_name}的成绩公示期为 {self.span}，届时开放成绩复核申请"
                    f"（还有 {self.days_to_open(today)} 天）。")
        if state == "open":
            return (f"成绩公示期 {self.span}，今天可以提交复核申请；"
                    f"{self.end:%m-%d} 截止，剩余 {self.days_left(today)} 天（含今天）。")
        return (f"成绩公示期已于 {self.end:%Y-%m-%d} 结束（{self.span}），不再受理成绩复核申请；"
                f"证书自 {self.cert_from:%Y-%m-%d} 起颁发。")



DEADLINES = (("reg_deadline", "报名截止"), ("exam_date", "考试日"), ("publicity_end", "成绩公示结束"),
             ("cert_from", "开始颁发证书"))


@dataclass(frozen=True)
class Deadline:
    label: str
    day: dt.date
    days: int  # from today; 0 on the day itself

    @property
    def text(self) -> str:
        when = "今天" if self.days == 0 else f"还有 {self.days} 天"
        return f"{self.label}：{self.day:%Y-%m-%d}（{when}）"


def next_deadline(dates: dict[str, dt.date], today: dt.date) -> Deadline | None:
    """The batch's next key date on or after today (registration deadline, exam day, end of publicity,
    certificates), or None once certificates are being issued."""
    for key, label in DEADLINES:
        day = dates[key]
        if day >= today:
            return Deadline(label, day, (day - today).days)
    return None


def stages_on(stages: list[tuple[str, dt.date | None, dt.date | None]], today: dt.date) -> list[str]:
    """The stages under way on a day (a stage without a start runs from the beginning, one without an
    end runs on); several can overlap."""
    return [name for name, start, end in stages
            if (start is None or start <= today) and (end is None or today <= end)]
