"""Money: amounts are integer fen everywhere (no floating point), shown as yuan with two decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd


def yuan_to_fen(value) -> int:
    """Exact conversion of a money cell (text or number) to integer fen; raises ValueError."""
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("，", "").replace("￥", "").replace("¥", "").replace("元", "")
    try:
        d = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"不是金额：{value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"不是金额：{value!r}")
    fen = d * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"金额精度超过分：{value!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"
def yuan(fen) -> Decimal | None:
    """Exact yuan for tables: Decimal('1234.50')."""
    if fen is None or fen is pd.NA or (isinstance(fen, float) and fen != fen):
        return None
    return Decimal(int(fen)).scaleb(-2)


def yuan_text(fen) -> str:
    """1234567 fen -> '12,345.67' (thousands separated, two decimals, exact)."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def yuan_cell(fen) -> float | None:
    """A yuan amount for an Excel number cell. Conversion only: sums are always made in fen."""
    d = yuan(fen)
    return None if d is None else float(d)


def balance_words(balance_fen: int) -> str:
    if balance_fen < 0:
        return f"尚欠 {yuan_text(-balance_fen)} 元"
    if balance_fen > 0:
        return f"结余 {yuan_text(balance_fen)} 元（多缴或应退）"
    return "已结清"


def settlement_words(settlement_fen: int) -> str:
    if settlement_fen < 0:
        return f"应退 {yuan_text(-settlement_fen)} 元"
    if settlement_fen > 0:
        return f"应补 {yuan_text(settlement_fen)} 元"
    return "无"

