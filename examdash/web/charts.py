"""Plotly chart builders: plain functions from a frame to a figure. No maps of China."""

from __future__ import annotations

import collections
import datetime as dt
import functools
import threading

import pandas as pd
import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, WenQuanYi Micro Hei, sans-serif"
LEVEL_COLORS = {"初级": "#4C78A8", "中级": "#F58518"}
PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D"]


CHART_ENTRIES = 256
_FIGURES: collections.OrderedDict = collections.OrderedDict()
_FIGURES_LOCK = threading.Lock()


def _memo(builder):
    """Build a figure once per frame object and arguments. View models are cached and shared, so the
    same frame comes back on every page run until the data changes; the entry holds the frame, so its
    id cannot be reused while the entry lives. The figure is shared: st.plotly_chart only reads it."""

    @functools.wraps(builder)
    def build(df, *args, **kwargs):
        key = (builder.__name__, id(df), repr(args), repr(sorted(kwargs.items())))
        with _FIGURES_LOCK:
            hit = _FIGURES.get(key)
            if hit is not None and hit[0] is df:
                _FIGURES.move_to_end(key)
                return hit[1]
        fig = builder(df, *args, **kwargs)
        with _FIGURES_LOCK:
            _FIGURES[key] = (df, fig)
            while len(_FIGURES) > CHART_ENTRIES:
                _FIGURES.popitem(last=False)
        return fig

    return build


def _layout(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=title,
        font=dict(family=FONT, size=13),
        height=height,
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        hoverlabel=dict(font_family=FONT),
        separators=".,",
    )
    return fig


@_memo
def calendar(stages: pd.DataFrame, today: dt.date) -> go.Figure:
    """The batch's stages as bars on a date axis, with today marked."""
    fig = go.Figure()
    df = stages.sort_values("seq", ascending=False)
    for row in df.itertuples(index=False):
        start = pd.Timestamp(row.start_date)
        end = pd.Timestamp(row.end_date) + pd.Timedelta(days=1)
        current = row.start_date <= today <= row.end_date
        fig.add_trace(go.Bar(
            y=[row.stage], x=[(end - start).total_seconds() * 1000], base=[start], orientation="h",
            marker_color="#E45756" if current else "#4C78A8", showlegend=False,
            hovertemplate=f"{row.stage}<br>{row.start_date:%m-%d} 至 {row.end_date:%m-%d}<extra></extra>",
        ))
    t = pd.Timestamp(today) + pd.Timedelta(hours=12)
    fig.add_shape(type="line", x0=t, x1=t, y0=0, y1=1, yref="paper", line=dict(color="#E45756", width=2, dash="dash"))
    fig.add_annotation(x=t, y=1, yref="paper", text=f"今天 {today:%Y-%m-%d}", showarrow=False, yanchor="bottom",
                       font=dict(color="#E45756"))
    fig.update_xaxes(type="date", tickformat="%m-%d")
    return _layout(fig, None, height=60 + 38 * len(df))


@_memo
def level_funnel(by_level: pd.DataFrame) -> go.Figure:
    """Registered, sat and passed per level, side by side."""
    fig = go.Figure()
    for label, col, color in (("报名", "registered", "#9ecae9"), ("实考", "sat", "#4C78A8"), ("合格", "passed", "#54A24B")):
        fig.add_trace(go.Bar(x=by_level["level"], y=by_level[col], name=label, marker_color=color,
                             text=by_level[col], textposition="outside",
                             hovertemplate="%{x} " + label + "：%{y:,} 人<extra></extra>"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="人数")
    return _layout(fig, "各级别报名、实考与合格人数")


@_memo
def bar(df: pd.DataFrame, x: str, y: str, *, title: str, x_title: str, y_title: str, color: str | None = None,
        percent: bool = False, horizontal: bool = False, height: int = 420) -> go.Figure:
    """A plain (optionally grouped) bar chart with the number on hover."""
    fig = go.Figure()
    fmt = ":.1%" if percent else ":,"
    groups = [(None, df)] if color is None else list(df.groupby(color, sort=False))
    for i, (name, part) in enumerate(groups):
        fig.add_trace(go.Bar(
            x=part[y] if horizontal else part[x], y=part[x] if horizontal else part[y],
            orientation="h" if horizontal else "v", name=str(name) if name is not None else y_title,
            marker_color=LEVEL_COLORS.get(str(name), PALETTE[i % len(PALETTE)]),
            hovertemplate=("%{y}" if horizontal else "%{x}") + (f" {name}" if name else "") + "：%{"
            + ("x" if horizontal else "y") + fmt + "}<extra></extra>",
        ))
    fig.update_layout(barmode="group", showlegend=color is not None)
    (fig.update_xaxes if horizontal else fig.update_yaxes)(title=y_title, tickformat=".0%" if percent else ",")
    (fig.update_yaxes if horizontal else fig.update_xaxes)(title=x_title, type="category")
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=height)


@_memo
def cumulative(df: pd.DataFrame, deadline: dt.date, today: dt.date | None = None) -> go.Figure:
    """Daily cumulative registrations per level up to the deadline."""
    fig = go.Figure()
    for level, part in df.groupby("level", sort=False):
        fig.add_trace(go.Scatter(x=part["day"], y=part["cumulative"], mode="lines", name=str(level),
                                 line=dict(color=LEVEL_COLORS.get(str(level))),
                                 hovertemplate="%{x|%Y-%m-%d} " + str(level) + " 累计 %{y:,} 人<extra></extra>"))
    d = pd.Timestamp(deadline)
    fig.add_shape(type="line", x0=d, x1=d, y0=0, y1=1, yref="paper", line=dict(color="#E45756", dash="dash"))
    fig.add_annotation(x=d, y=1, yref="paper", text=f"报名截止 {deadline:%m-%d}", showarrow=False, yanchor="bottom")
    fig.update_xaxes(title="日期", tickformat="%m-%d")
    fig.update_yaxes(title="累计报名人数", tickformat=",")
    return _layout(fig, "每日累计报名人数")


@_memo
def seats_vs_registered(df: pd.DataFrame) -> go.Figure:
    """Seats against registrations per site; over-capacity sites in red."""
    over = df["registered"] > df["seats"].fillna(0) * df.get("sessions", 1)
    fig = go.Figure(go.Scatter(
        x=df["seats"], y=df["registered"], mode="markers",
        marker=dict(color=["#E45756" if o else "#4C78A8" for o in over], size=9, opacity=0.8),
        text=df["site_name"], hovertemplate="%{text}<br>机位 %{x:,}<br>报名 %{y:,}<extra></extra>",
    ))
    top = float(max(df["seats"].max() if len(df) else 1, df["registered"].max() if len(df) else 1))
    fig.add_shape(type="line", x0=0, y0=0, x1=top, y1=top, line=dict(color="#999", dash="dot"))
    fig.update_xaxes(title="机位数")
    fig.update_yaxes(title="报名人数（按场次最大值）")
    return _layout(fig, "考点机位数与报名人数（红色：超出机位）")


@_memo
def histogram(df: pd.DataFrame, columns: dict[str, str], title: str) -> go.Figure:
    """Pre-binned score counts (bin, column, count) as overlaid bars."""
    fig = go.Figure()
    for i, (col, label) in enumerate(columns.items()):
        part = df[df["part"] == col]
        fig.add_trace(go.Bar(x=part["bin"], y=part["candidates"], name=label, opacity=0.75,
                             marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate=label + " %{x}-%{customdata} 分：%{y:,} 人<extra></extra>",
                             customdata=part["bin"] + 4.9))
    fig.add_shape(type="line", x0=59.5, x1=59.5, y0=0, y1=1, yref="paper", line=dict(color="#E45756", dash="dash"))
    fig.update_layout(barmode="overlay", bargap=0.05)
    fig.update_xaxes(title="分数（每 5 分一档）", range=[-2.5, 102.5])
    fig.update_yaxes(title="人数", tickformat=",")
    return _layout(fig, title)


@_memo
def heatmap(df: pd.DataFrame, title: str) -> go.Figure:
    """Theory against practical: candidates per 10x10-point cell."""
    pivot = df.pivot_table(index="practical_bin", columns="theory_bin", values="candidates", aggfunc="sum", fill_value=0)
    fig = go.Figure(go.Heatmap(
        z=pivot.values, x=[f"{int(c)}-{int(c) + 9}" for c in pivot.columns], y=[f"{int(r)}-{int(r) + 9}" for r in pivot.index],
        colorscale="Blues", hovertemplate="理论 %{x}<br>实操 %{y}<br>%{z:,} 人<extra></extra>", colorbar=dict(title="人数"),
    ))
    fig.update_xaxes(title="理论成绩", type="category")
    fig.update_yaxes(title="实操成绩", type="category")
    return _layout(fig, title, height=460)


STATUS_COLORS = {"已提交": "#4C78A8", "复核中": "#F58518", "维持": "#54A24B", "更正": "#E45756", "驳回": "#9D755D"}


@_memo
def review_status_bars(by_school: pd.DataFrame) -> go.Figure:
    """Review items per school, stacked by status, one colour per status whatever statuses occur."""
    fig = bar(by_school, "院校", "复核项", title="各院校复核项（按状态）", x_title="院校", y_title="复核项",
                     color="状态")
    for trace in fig.data:
        trace.marker.color = STATUS_COLORS.get(trace.name)
    fig.update_layout(barmode="stack")
    if len(by_school) and by_school.groupby("院校")["复核项"].sum().max() <= 10:
        fig.update_yaxes(dtick=1)
    return fig
