"""The fee rules computed by hand from the demo generator and the notice, for the fee tests to compare
the warehouse's figures with (never read back from the warehouse)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from examdash import demo
from examdash.domain.money import yuan_text

EXAM_DATE = {"2023-1": dt.date(2023, 5, 27), "2023-2": dt.date(2023, 6, 16)}  # the notice


PROVISIONAL = {"初级": 27000, "中级": 28000}  # 五、考核费用: 270 / 280 yuan


def demo_standards() -> list[tuple[str, str, dt.date, int, str]]:
    out = []
    for prov, a1, a2, eff, doc in demo.FEE_STANDARDS:
        for level, amount in (("初级", a1), ("中级", a2)):
            out.append((prov, level, dt.date.fromisoformat(eff), amount * 100, doc))
    return out


def price(standards, province: str, level: str, exam: dt.date) -> tuple[int, str, int]:
    """(unit fen, basis, provisional fen) by the rule in words: latest standard in force on the exam
    day, else the first one published later that year (settled), else the provisional price."""
    mine = sorted((eff, fen) for p, lv, eff, fen, _ in standards if p == province and lv == level)
    before = [fen for eff, fen in mine if eff <= exam]
    if before:
        return before[-1], "standard", PROVISIONAL[level]
    later = [fen for eff, fen in mine if eff > exam and eff.year == exam.year]
    if later:
        return later[0], "settled", PROVISIONAL[level]
    return PROVISIONAL[level], "provisional", PROVISIONAL[level]


def expected_lines(demo_frames, demo_world, standards) -> pd.DataFrame:
    """Charged registrations per batch, school and level, priced by hand."""
    province = dict(zip(demo_world.schools.school_code, demo_world.schools.province))
    regs = pd.concat(demo_frames["registrations"].values(), ignore_index=True)
    charged = regs[regs["报名状态"] == "正常"]
    n = charged.groupby(["考试批次", "院校代码", "级别"]).size().rename("n").reset_index()
    out = []
    for r in n.itertuples(index=False):
        unit, basis, prov = price(standards, province[r.院校代码], r.级别, EXAM_DATE[r.考试批次])
        out.append({"batch_code": r.考试批次, "school_code": r.院校代码, "level": r.级别, "n": int(r.n),
                    "unit_fen": unit, "basis": basis, "amount_fen": int(r.n) * unit,
                    "settlement_fen": int(r.n) * (unit - prov) if basis == "settled" else 0,
                    "province": province[r.院校代码]})
    return pd.DataFrame(out)


def sheet(wb, name) -> pd.DataFrame:
    values = list(wb[name].values)
    return pd.DataFrame(values[1:], columns=values[0])


def fen(v) -> int:
    return int(Decimal(str(v)) * 100)



def yuan_metric(fen_value: int) -> str:
    """An amount as the fee pages' metrics show it."""
    return f"{yuan_text(fen_value)} 元"
