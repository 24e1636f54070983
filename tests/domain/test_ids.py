"""Domain rules: the GB 11643 check character, money in fen, masking."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from examdash import demo
from examdash.domain import ids as id_rules
from examdash.domain import money
from examdash.importers.kinds import PROVINCES

REFERENCE_ID = "11010519491231002X"


def test_reference_id_is_valid():
    assert id_rules.id_check_char(REFERENCE_ID[:17]) == "X"
    assert id_rules.id_valid(REFERENCE_ID)
    assert id_rules.ids_valid([REFERENCE_ID]).tolist() == [True]


@pytest.mark.parametrize("pos", range(18))
def test_changing_any_character_makes_the_reference_id_invalid(pos):
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    variants = [REFERENCE_ID[:pos] + c + REFERENCE_ID[pos + 1:] for c in alphabet if c != REFERENCE_ID[pos]]
    assert len(variants) == len(alphabet) - 1
    for v in variants:
        assert not id_rules.id_valid(v), v
    assert not id_rules.ids_valid(variants).any()


def test_lower_case_x_is_invalid_until_normalised():
    lower = REFERENCE_ID.lower()
    assert not id_rules.id_valid(lower)
    assert not id_rules.ids_valid([lower])[0]
    assert id_rules.normalise_id(f"  {lower} ") == REFERENCE_ID
    assert id_rules.id_valid(id_rules.normalise_id(f"  {lower} "))


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        REFERENCE_ID[:17],  # 17 characters
        REFERENCE_ID + "0",  # 19 characters whose first 18 are a valid ID
        REFERENCE_ID + "X",
        REFERENCE_ID + "\n",
        " " + REFERENCE_ID,
        "X1010519491231002X",  # X not at the end
        "1101051949123100 X",
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "1.10105194912310E+17",  # an ID that Excel turned into a number
        110105194912310020,
    ],
    ids=repr,
)
def test_malformed_ids_are_invalid_both_ways(value):
    assert not id_rules.id_valid(value)
    assert id_rules.ids_valid([value, REFERENCE_ID]).tolist() == [False, True]


def _generated_ids(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    provinces = rng.choice(PROVINCES, size=n)
    years = rng.integers(1960, 2008, size=n)
    return list(demo._ids(rng, provinces, years))


def test_demo_generator_ids_are_valid():
    ids = _generated_ids(500, 3)
    assert all(len(i) == 18 for i in ids)
    assert all(id_rules.id_valid(i) for i in ids)
    assert any(i.endswith("X") for i in ids)


def test_vectorised_ids_valid_agrees_with_id_valid_on_1000_ids():
    rng = np.random.default_rng(11643)
    base = _generated_ids(1000, 7)
    values: list = []
    for k, id_no in enumerate(base):
        kind = k % 10
        if kind < 5:
            values.append(id_no)  # valid as generated
        elif kind == 5:
            pos = int(rng.integers(0, 17))
            digit = str((int(id_no[pos]) + int(rng.integers(1, 10))) % 10)
            values.append(id_no[:pos] + digit + id_no[pos + 1:])
        elif kind == 6:
            values.append(id_no[:17] + ("X" if id_no[17] != "X" else "0"))
        elif kind == 7:
            values.append(id_no[:17] + "x" if id_no[17] == "X" else id_no[: int(rng.integers(0, 18))])
        elif kind == 8:
            values.append(id_no + str(int(rng.integers(0, 10))))
        else:
            values.append([None, "", id_no.replace("1", "１"), f"{float(id_no[:17]):.5E}"][k // 10 % 4])
    assert len(values) == 1000
    expected = np.array([id_rules.id_valid(v) for v in values])
    got = id_rules.ids_valid(values)
    assert got.dtype == bool and got.shape == (1000,)
    disagree = [values[i] for i in np.flatnonzero(got != expected)]
    assert not disagree, disagree[:10]
    # Both outcomes are well represented, so agreement means something.
    assert 450 <= expected.sum() <= 600


def test_ids_valid_of_nothing():
    assert id_rules.ids_valid([]).shape == (0,)


@pytest.mark.parametrize(
    "value, fen",
    [
        ("270", 27000),
        ("270.00", 27000),
        (270, 27000),
        ("0.1", 10),
        (0.1, 10),
        (0.29, 29),  # 0.29 * 100 == 28.999999999999996 in binary floating point
        (1.15, 115),  # 114.99999999999999
        (19.99, 1999),
        ("19.99", 1999),
        ("0.01", 1),
        ("-0.01", -1),
        ("-50", -5000),
        ("1,234.56", 123456),
        ("1，234.5", 123450),
        ("￥300.00元", 30000),
        ("¥ 280", 28000),
        (" 96,480.00 ", 9648000),
        ("12345678901.23", 1234567890123),
    ],
)
def test_yuan_to_fen_is_exact(value, fen):
    got = money.yuan_to_fen(value)
    assert type(got) is int
    assert got == fen


def test_yuan_to_fen_sums_exactly():
    assert sum(money.yuan_to_fen("0.1") for _ in range(10)) == 100
    assert sum(money.yuan_to_fen(v) for v in (0.1, 0.2)) == money.yuan_to_fen("0.3")
    for cents in range(0, 100000, 7):
        text = f"{cents // 100}.{cents % 100:02d}"
        assert money.yuan_to_fen(text) == cents
        assert money.yuan_to_fen(float(text)) == cents
        assert money.fen_to_yuan(cents) == text


@pytest.mark.parametrize(
    "value",
    ["", "abc", "1.005", "0.001", "1.2.3", "二百七十", "inf", "-Infinity", "NaN", float("nan"), float("inf"), 1e-7],
    ids=repr,
)
def test_yuan_to_fen_rejects_non_amounts_with_value_error(value):
    with pytest.raises(ValueError):
        money.yuan_to_fen(value)


def test_fen_to_yuan():
    assert money.fen_to_yuan(27000) == "270.00"
    assert money.fen_to_yuan(-5) == "-0.05"
    assert Decimal(money.fen_to_yuan(123456)) * 100 == 123456


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳娜", "欧阳*"),
        ("司马相如", "司马**"),
        ("欧阳", "欧*"),  # a two-character name that looks like a compound surname keeps one
        (" 李四 ", "李*"),
        ("王", "*"),  # a one-character name would otherwise be shown in full
        ("", ""),
        ("   ", ""),
        (None, ""),
        (float("nan"), ""),
    ],
    ids=repr,
)
def test_mask_name(name, masked):
    assert id_rules.mask_name(name) == masked


@pytest.mark.parametrize(
    "id_no, masked",
    [
        ("11010519491231002X", "110105********002X"),
        ("440106200001011234", "440106********1234"),
        ("110105491231002", "110105*****1002"),  # old 15-digit ID
        ("12345", "*****"),
        ("", ""),
        (None, ""),
        (float("nan"), ""),
    ],
    ids=repr,
)
def test_mask_id(id_no, masked):
    assert id_rules.mask_id(id_no) == masked


def test_mask_id_hides_the_birth_date():
    masked = id_rules.mask_id(REFERENCE_ID)
    assert len(masked) == 18
    assert "19491231" not in masked
    assert masked.endswith("002X")
