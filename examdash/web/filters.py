"""The shared sidebar filters (batch, level, province, site, school, candidate type), the same on
every page, remembered across pages and mirrored in the URL so a view can be linked."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from examdash import web

ALL = "全部"
FIELDS = ("batch", "level", "province", "site", "school", "candidate_type")
LABELS = {"batch": "考试批次", "level": "级别", "province": "省份（院校所在）", "site": "考点", "school": "院校",
          "candidate_type": "考生类型"}


@dataclass(frozen=True)
class Filters:
    batch: str
    level: str | None = None
    province: str | None = None
    site: str | None = None
    school: str | None = None
    candidate_type: str | None = None

    def params(self, *names: str) -> dict:
        """Bound parameters for a query that takes these filters."""
        return {n: getattr(self, n) for n in (names or FIELDS)}

    def describe(self) -> str:
        """The filters as words, for file names and captions."""
        parts = [self.batch] + [v for v in (self.level, self.province, self.site, self.school, self.candidate_type) if v]
        return "_".join(parts)


def current_batch(batches, today) -> str:
    """The batch people are working on today: one in its publicity week, else the next exam, else the latest."""
    b = batches.assign(ps=pd.to_datetime(batches.publicity_start).dt.date, pe=pd.to_datetime(batches.publicity_end).dt.date,
                       ex=pd.to_datetime(batches.exam_date).dt.date)
    live = b[(b.ps <= today) & (b.pe >= today)]
    if len(live):
        return live.iloc[0].batch_code
    upcoming = b[b.ex >= today].sort_values("ex")
    if len(upcoming):
        return upcoming.iloc[0].batch_code
    return b.sort_values("ex").iloc[-1].batch_code


def _store(field: str) -> str:
    return f"_filter_{field}"


def _widget(field: str) -> str:
    return f"filters_{field}"


def _remember(field: str) -> None:
    st.session_state[_store(field)] = st.session_state[_widget(field)]


def _select(field: str, options: list[str], labels: dict[str, str] | None = None) -> str | None:
    store = _store(field)
    if store not in st.session_state:
        st.session_state[store] = st.query_params.get(field, options[0])
    if st.session_state[store] not in options:
        st.session_state[store] = options[0]
    st.session_state[_widget(field)] = st.session_state[store]
    value = st.sidebar.selectbox(
        LABELS[field], options, key=_widget(field), on_change=_remember, args=(field,),
        format_func=(lambda v: labels.get(v, v)) if labels else str,
    )
    return None if value == ALL else value


def sidebar(fields: tuple[str, ...] = FIELDS) -> Filters:
    """Draw the filters a page uses; choices narrow each other (a province limits its sites and schools)."""
    batches = web.query("batches")
    codes = batches["batch_code"].tolist()
    if not codes:
        st.warning("考试计划中没有批次：请检查 data/exam_plan.toml。")
        st.stop()
    names = dict(zip(batches.batch_code, batches.batch_name))
    first = current_batch(batches, web.today())
    codes = [first] + [c for c in codes if c != first]
    values: dict[str, str | None] = {"batch": _select("batch", codes, {c: f"{c} {names[c]}" for c in codes})}
    options = web.query("filter_options") if any(f in fields for f in ("province", "site", "school")) else None
    if "level" in fields:
        values["level"] = _select("level", [ALL, "初级", "中级"])
    if "province" in fields:
        provinces = sorted(options[options.kind == "school"].province.unique())
        values["province"] = _select("province", [ALL, *provinces])
    for field, kind in (("site", "site"), ("school", "school")):
        if field in fields:
            rows = options[options.kind == kind]
            if values.get("province"):
                rows = rows[rows.province == values["province"]]
            labels = dict(zip(rows.code, rows.code + " " + rows.name))
            values[field] = _select(field, [ALL, *rows.code.tolist()], labels)
    if "candidate_type" in fields:
        values["candidate_type"] = _select("candidate_type", [ALL, "在校生", "社会考生"])
    _mirror(values)
    return Filters(**values)


def _mirror(values: dict) -> None:
    """Write the chosen filters to the URL (and drop the ones left at 全部)."""
    for field in FIELDS:
        value = values.get(field)
        if value:
            if st.query_params.get(field) != value:
                st.query_params[field] = value
        elif field in st.query_params and field in values:
            del st.query_params[field]
