"""What several views share: the query runner they are given, the shared filters, tables with Chinese
headers, rates as percentages, and where a batch stands today.

Every view takes `run(name, **params)`: pages hand it web's cached runner scoped to the signed-in
identity; tests and benchmarks a `runner` over a connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from examdash.domain.calendar import Phase, Window, phase
from examdash.domain.glossary import LABELS
from examdash.domain.money import yuan
from examdash.domain.rules import LEVELS, PASS_RULES
from examdash.store import queries

Run = Callable[..., pd.DataFrame]

FIELDS = ("batch", "level", "province", "site", "school", "candidate_type")
CHART_ROWS = 30  # bars per ranked chart; the table behind it has every row


@dataclass(frozen=True)
class Filters:
    """The shared filters every organiser page takes (None: no filter)."""

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


def runner(con, scope: queries.Scope = queries.FULL_SCOPE) -> Run:
    """A `run` over a connection, for tests, the benchmark and deferred downloads (no Streamlit)."""
    return lambda name, **params: queries.run(con, name, params, scope)


def current_batch(batches: pd.DataFrame, today: dt.date) -> str:
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


@dataclass(frozen=True)
class FilterChoices:
    """What the shared sidebar filters offer: the batches (today's first) with their labels, and, with
    places, the provinces and the sites and schools of each province (None: all of them)."""

    batches: tuple[str, ...]
    batch_labels: dict
    provinces: tuple[str, ...] = ()
    places: dict = None  # (kind, province or None) -> (codes, {code: "code name"})


def filter_choices(run: Run, today: dt.date, with_places: bool) -> FilterChoices:
    batches = run("batches")
    codes = batches["batch_code"].tolist()
    if not codes:
        return FilterChoices((), {})
    names = dict(zip(batches.batch_code, batches.batch_name))
    first = current_batch(batches, today)
    codes = [first] + [c for c in codes if c != first]
    labels = {c: f"{c} {names[c]}" for c in codes}
    if not with_places:
        return FilterChoices(tuple(codes), labels)
    options = run("filter_options")
    provinces = tuple(sorted(options[options.kind == "school"].province.unique()))
    places = {}
    for kind in ("site", "school"):
        rows = options[options.kind == kind]
        for province in (None, *provinces):
            part = rows if province is None else rows[rows.province == province]
            places[(kind, province)] = (tuple(part.code.tolist()), dict(zip(part.code, part.code + " " + part.name)))
    return FilterChoices(tuple(codes), labels, provinces, places)


def site_choices(run: Run) -> dict[str, str]:
    """code -> "code name" of every exam site, in code order (a site picker's options)."""
    options = run("filter_options")
    sites = options[options.kind == "site"].sort_values("code")
    return dict(zip(sites.code, sites.code + " " + sites.name))


def _batch_row(run: Run, batch: str) -> pd.Series:
    b = run("batches")
    return b[b.batch_code == batch].iloc[0]


def _day(row: pd.Series, column: str) -> dt.date:
    return pd.Timestamp(row[column]).date()


def batch_name(run: Run, batch: str) -> str:
    return _batch_row(run, batch).batch_name


def batch_phase(run: Run, batch: str, today: dt.date) -> Phase:
    """Where the batch stands today: pages show this instead of empty figures before the exam."""
    row = _batch_row(run, batch)
    return phase(*(_day(row, c) for c in ("exam_date", "reg_deadline", "publicity_start", "publicity_end", "cert_from")),
                 today)


def window(run: Run, batch: str) -> Window:
    """The batch's publicity window (成绩公示) and certificate date."""
    row = _batch_row(run, batch)
    return Window(batch, row.batch_name, _day(row, "publicity_start"), _day(row, "publicity_end"),
                  _day(row, "cert_from"))


def pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{x:.1%}"


def display_table(df: pd.DataFrame, columns: list[str], rates: tuple[str, ...] = ()) -> pd.DataFrame:
    """Pick columns in order, format rates as percentages, rules as words, headers in Chinese."""
    out = df[columns].copy()
    for c in rates:
        out[c] = out[c].map(pct)
    if "pass_rule" in out:
        out["pass_rule"] = out["pass_rule"].map(PASS_RULES).fillna(out["pass_rule"])
    for c in ("over_capacity", "is_pilot", "verdict_mismatch"):
        if c in out:
            out[c] = yes_no(out[c], "是", "否")
    return out.rename(columns=LABELS)


def yes_no(flags: pd.Series, yes: str, no: str) -> pd.Series:
    """True / False / missing as words (vectorised: the download maps a million rows)."""
    return flags.map({True: yes, False: no}).astype("object").where(flags.notna(), "—")


def by_level_wide(df: pd.DataFrame, keys: list[str], value: str = "registered") -> pd.DataFrame:
    """Long (keys, level, value) -> one row per key with 初级, 中级 and 合计 columns."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, *LEVELS, "合计"])
    filled = df.assign(**{k: df[k].fillna("—") for k in keys})
    wide = filled.groupby([*keys, "level"], sort=False)[value].sum().unstack("level", fill_value=0)
    for lv in LEVELS:
        if lv not in wide:
            wide[lv] = 0
    wide = wide[list(LEVELS)].astype("int64")
    wide["合计"] = wide.sum(axis=1)
    return wide.reset_index()


def top_rows(df: pd.DataFrame, key: str, by: str, n: int = CHART_ROWS) -> pd.DataFrame:
    """The rows of the n keys with the largest `by` summed over levels, largest first."""
    order = df.groupby(key, sort=False)[by].sum().sort_values(ascending=False).head(n).index
    rank = {k: i for i, k in enumerate(order)}
    part = df[df[key].isin(rank)]
    return part.assign(_rank=part[key].map(rank)).sort_values(["_rank", "level"], key=level_order).drop(columns="_rank")


def level_order(s: pd.Series) -> pd.Series:
    """A sort key putting 初级 before 中级 (for sort_values(key=…))."""
    return s.map({lv: i for i, lv in enumerate(LEVELS)}) if s.name == "level" else s


def rules_text(by_level: pd.DataFrame) -> str:
    """合格规则：初级 理论与实操均≥60分；中级 …"""
    if by_level.empty:
        return "合格规则：—"
    return "合格规则：" + "；".join(f"{r.level} {PASS_RULES.get(r.pass_rule, r.pass_rule)}"
                                  for r in by_level.itertuples())


def with_label(df: pd.DataFrame, code: str, name: str) -> pd.DataFrame:
    """A chart label that stays unique when two sites or schools share a name."""
    return df.assign(label=df[name].astype("str") + "（" + df[code].astype("str") + "）")


def date_texts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.strftime("%Y-%m-%d").astype("object").where(s.notna(), None)


def yuan_columns(df: pd.DataFrame, mapping: dict[str, str]) -> dict[str, pd.Series]:
    """Fen columns as exact Decimal yuan, under their table labels."""
    return {label: df[col].map(yuan) for col, label in mapping.items()}
