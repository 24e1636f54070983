"""ID numbers (GB 11643 check characters) and the one masking rule for names and ID numbers."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

# GB 11643: the weights of the first 17 digits, and the check character for each remainder mod 11.
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = "10X98765432"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only, like ids_valid; used with fullmatch
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 澹台 公冶 太史 申屠 闻人 万俟 单于 赫连 钟离 宗政 濮阳 淳于 仲孙 司空 亓官 司寇 鲜于 闾丘 东郭 拓跋 第五".split()
)


def id_check_char(first17: str) -> str:
    return CHECK[sum(int(c) * int(w) for c, w in zip(first17, WEIGHTS)) % 11]


def id_valid(id_no: str) -> bool:
    """GB 11643: 17 digits and a check character (0-9 or X)."""
    return isinstance(id_no, str) and bool(_ID_RE.fullmatch(id_no)) and id_check_char(id_no[:17]) == id_no[17]


def ids_valid(ids) -> np.ndarray:
    """Vectorised id_valid over a sequence of strings (1M IDs in well under a second)."""
    texts = [s if isinstance(s, str) else "" for s in ids]
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    # Lengths from the originals: the U18 array truncates longer strings to a valid-looking prefix.
    lengths = np.fromiter((len(s) for s in texts), dtype=np.int64, count=n)
    arr = np.asarray(texts, dtype="U18")
    codes = arr.view(np.uint32).reshape(n, 18)
    digits = codes[:, :17].astype(np.int64) - ord("0")
    shape_ok = (lengths == 18) & ((digits >= 0) & (digits <= 9)).all(axis=1)
    last = codes[:, 17]
    last_ok = ((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X"))
    expected = np.frombuffer(CHECK.encode("ascii"), dtype=np.uint8).astype(np.uint32)[
        (np.clip(digits, 0, 9) * WEIGHTS).sum(axis=1) % 11
    ]
    return shape_ok & last_ok & (expected == last)


def fold_typed(text) -> str:
    """A ticket or ID number as typed, compared as stored: full-width digits and letters folded (NFKC),
    white space dropped, upper case (an ID may end in x)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).upper()


def normalise_id(value) -> str:
    """Upper-case the check character and drop spaces (exports write 'x' and pad with blanks)."""
    return str(value).strip().replace(" ", "").upper()


def mask_name(name) -> str:
    """张三 -> 张*, 张三丰 -> 张**, 欧阳娜娜 -> 欧阳**: keep the surname, star the rest."""
    if name is None or (isinstance(name, float) and name != name):
        return ""
    name = str(name).strip()
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_id(id_no) -> str:
    """First 6 and last 4 kept: 110105********002X. Short values are starred whole."""
    if id_no is None or (isinstance(id_no, float) and id_no != id_no):
        return ""
    s = str(id_no).strip()
    if not s:
        return ""
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def looks_like_id(text) -> bool:
    """Whether a typed value has the shape of an ID number (18 characters, check digit or not)."""
    return isinstance(text, str) and _ID_IN_TEXT.fullmatch(text.strip()) is not None


def _id_like(run: str) -> bool:
    """An 18-character run that is an ID number, or one mistyped: its check digit holds, or it has a region
    code and a birth date where an ID has them (an 18-digit bank reference rarely has both)."""
    run = run.upper()
    if id_valid(run):
        return True
    year, month, day = int(run[6:10]), int(run[10:12]), int(run[12:14])
    return run[0] in "12345678" and 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def scrub(text: str | None) -> str | None:
    """Text to be logged with every ID number in it masked (6 + 4 kept): what a user types into a field
    that asks for something else (a ticket, a user name, a note) is never kept as a full ID number."""
    if not text:
        return text
    return _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)) if _id_like(m.group(0)) else m.group(0), text)
