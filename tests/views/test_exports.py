"""The download helpers: formula-safe cells, the one masking rule, file names from the filters."""

from __future__ import annotations

import pandas as pd

from examdash.views import exports


def test_cells_excel_would_run_get_an_apostrophe_and_nothing_else_changes():
    df = pd.DataFrame({
        "text": pd.Series(["=SUM(A1)", "+86 138", "-x", "@cmd", "\tTAB", "\rCR", "ok", None, ""], dtype="string"),
        "mixed": ["-5", "+2.5", "-1.5e3", 7, None, "=1", "-", "a-b", 3.5],
        "number": [1, -2, 3, -4, 5, 6, 7, 8, 9],
    })
    out = exports.neutralise(df)
    assert out["text"].tolist()[:7] == ["'=SUM(A1)", "'+86 138", "'-x", "'@cmd", "'\tTAB", "'\rCR", "ok"]
    assert out["text"].isna().tolist()[7] and out["text"].tolist()[8] == ""
    # numbers kept as text stay numbers; non-text cells are left as they are
    assert out["mixed"].tolist()[:3] == ["-5", "+2.5", "'-1.5e3"]
    assert out["mixed"].tolist()[3:] == [7, None, "'=1", "'-", "a-b", 3.5]
    assert out["number"].tolist() == df["number"].tolist() and out.dtypes.tolist() == df.dtypes.tolist()
    assert df["text"].iat[0] == "=SUM(A1)"  # the caller's frame is not changed


def test_a_frame_without_risky_cells_comes_back_as_it_was():
    df = pd.DataFrame({"code": ["01660", "12518"], "n": [1, 2]})
    assert exports.neutralise(df) is df


def test_file_names_carry_the_filters_and_nothing_a_file_system_rejects():
    assert exports.file_name("成绩表", "2023-1 / 初级: 广东省", "csv") == "成绩表_2023-1-初级-广东省.csv"
