"""The shared sidebar filters (batch, level, province, site, school, candidate type), the same on
every page, remembered across pages and mirrored in the URL so a view can be linked."""

from __future__ import annotations

import streamlit as st

from examdash import web
from examdash.views.common import FIELDS, Filters, filter_choices

ALL = "全部"
LABELS = {"batch": "考试批次", "level": "级别", "province": "省份（院校所在）", "site": "考点", "school": "院校",
          "candidate_type": "考生类型"}


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
    places = any(f in fields for f in ("province", "site", "school"))
    choices = web.cached_view(filter_choices, web.query, web.today(), places)
    if not choices.batches:
        st.warning("考试计划中没有批次：请检查 data/exam_plan.toml。")
        st.stop()
    values: dict[str, str | None] = {"batch": _select("batch", list(choices.batches), choices.batch_labels)}
    if "level" in fields:
        values["level"] = _select("level", [ALL, "初级", "中级"])
    if "province" in fields:
        values["province"] = _select("province", [ALL, *choices.provinces])
    for field in ("site", "school"):
        if field in fields:
            codes, labels = choices.places[(field, values.get("province"))]
            values[field] = _select(field, [ALL, *codes], labels)
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
