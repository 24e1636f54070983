"""The seven import kinds: header aliases, keys, and validation into typed frames."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from examdash.domain import ids
from examdash.importers.reading import SPACE_RUN, norm_header

PROVINCES = (
    "北京市 天津市 河北省 山西省 内蒙古自治区 辽宁省 吉林省 黑龙江省 上海市 江苏省 浙江省 安徽省 福建省 江西省 山东省 "
    "河南省 湖北省 湖南省 广东省 广西壮族自治区 海南省 重庆市 四川省 贵州省 云南省 西藏自治区 陕西省 甘肃省 青海省 "
    "宁夏回族自治区 新疆维吾尔自治区"
).split()


def _short(p: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if p.endswith(suffix):
            return p[: -len(suffix)]
    return p


PROVINCE_ALIASES = {**{p: p for p in PROVINCES}, **{_short(p): p for p in PROVINCES}}
LEVEL_ALIASES = {"初级": "初级", "初": "初级", "中级": "中级", "中": "中级"}
TYPE_ALIASES = {"在校生": "在校生", "学生": "在校生", "在校学生": "在校生", "社会考生": "社会考生", "社会人员": "社会考生", "社会": "社会考生"}
ATTENDANCE_ALIASES = {"已签到": "已签到", "签到": "已签到", "正常": "已签到", "出勤": "已签到", "是": "已签到",
                      "缺考": "缺考", "缺席": "缺考", "未签到": "缺考", "否": "缺考", "违纪": "违纪", "作弊": "违纪"}
YES_NO = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "true": True, "false": False,
          "1": True, "0": False, "合格": True, "不合格": False, "通过": True, "未通过": False, "pass": True, "fail": False}
STATUS_ALIASES = {"正常": "正常", "有效": "正常", "已报名": "正常", "已缴费": "正常", "已取消": "已取消", "取消": "已取消", "退考": "已取消"}
ABSENT_WORDS = {"缺考", "缺席", "缺"}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    table: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    batched: bool = False
    alias_map: dict = field(default_factory=dict, compare=False)

    def label_of(self, f: str) -> str:
        return next(x.label for x in self.fields if x.name == f)

    @property
    def required(self) -> set[str]:
        return {f.name for f in self.fields if f.required}


def _kind(name, label, table, key, fields, batched=False) -> Kind:
    aliases = {}
    for f in fields:
        for a in (f.label, f.name, *f.aliases):
            aliases[norm_header(a)] = f.name
    return Kind(name, label, table, tuple(key), tuple(fields), batched, aliases)


BATCH = Field("batch_code", "考试批次", ("批次", "考试计划", "批次代码", "考试批次代码", "batch"))
ID_NO = Field("id_no", "身份证号", ("身份证号码", "证件号码", "证件号", "身份证", "公民身份号码", "id_no", "id"), True)
TICKET = Field("ticket_no", "准考证号", ("准考证号码", "准考证", "准考号", "ticket", "ticket_no"), True)
PROVINCE = Field("province", "省份", ("所在省份", "省", "省市", "所在省", "省份名称", "province"), True)
LEVEL = Field("level", "级别", ("报考级别", "等级", "证书等级", "考试级别", "level"), True)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind("schools", "院校", "schools", ["school_code"], [
            Field("school_code", "院校代码", ("学校代码", "院校编号", "学校编号", "院校编码"), True),
            Field("school_name", "院校名称", ("学校名称", "院校", "学校"), True),
            PROVINCE,
            Field("school_type", "类型", ("院校类型", "学校类型", "办学层次", "层次")),
            Field("is_pilot", "是否试点", ("试点院校", "是否试点院校", "试点")),
        ]),
        _kind("sites", "考点", "sites", ["site_code"], [
            Field("site_code", "考点代码", ("考点编号", "站点代码", "考核站点代码", "考点编码"), True),
            Field("site_name", "考点名称", ("考核站点名称", "站点名称", "考点", "考核站点"), True),
            PROVINCE,
            Field("city", "城市", ("所在城市", "市", "地市")),
            Field("school_code", "所属院校代码", ("院校代码", "学校代码", "所属学校代码")),
            Field("seats", "机位数", ("机位", "座位数", "可用机位数", "考位数")),
        ]),
        _kind("registrations", "报名", "registrations", ["batch_code", "id_no", "level"], [
            BATCH, ID_NO, LEVEL,
            Field("name", "姓名", ("考生姓名", "学生姓名", "name"), True),
            Field("school_code", "院校代码", ("学校代码", "所属院校代码", "院校编号")),
            Field("school_name", "院校名称", ("学校名称", "所属院校", "院校", "学校")),
            Field("site_code", "考点代码", ("考点编号", "考核站点代码", "站点代码")),
            Field("site_name", "考点名称", ("考核站点", "考核站点名称", "考点")),
            Field("candidate_type", "考生类型", ("考生类别", "考生身份", "人员类型")),
            Field("registered_at", "报名时间", ("报名日期", "提交时间")),
            Field("ticket_no", "准考证号", TICKET.aliases),
            Field("status", "报名状态", ("状态",)),
        ], batched=True),
        _kind("attendance", "签到", "attendance", ["batch_code", "ticket_no"], [
            BATCH, TICKET,
            Field("room", "考场", ("考场号", "考场名称", "考场编号")),
            Field("seat", "座号", ("座位号", "机位号", "座位")),
            Field("status", "签到状态", ("考勤状态", "是否签到", "签到", "状态", "考试状态"), True),
        ], batched=True),
        _kind("scores", "成绩", "score_versions", ["batch_code", "ticket_no"], [
            BATCH, TICKET,
            Field("id_no", "身份证号", ID_NO.aliases),
            Field("theory", "理论成绩", ("理论", "理论分数", "理论考试成绩", "理论得分"), True),
            Field("practical", "实操成绩", ("实操", "实操分数", "实操考试成绩", "实操得分", "技能成绩"), True),
            Field("total", "总成绩", ("总分", "综合成绩", "成绩")),
            Field("passed", "是否合格", ("合格", "考核结果", "结果", "是否通过")),
        ], batched=True),
        _kind("fee-standards", "收费标准", "fee_standards", ["province", "level", "effective_date"], [
            PROVINCE, LEVEL,
            Field("effective_date", "生效日期", ("执行日期", "起始日期", "生效时间"), True),
            Field("amount", "金额", ("收费标准", "费用", "标准", "金额元人次", "考核费用"), True),
            Field("doc_no", "文号", ("发文文号", "文件号", "依据文号", "文件")),
        ]),
        _kind("payments", "到账", "payments", ["bank_ref"], [
            Field("bank_ref", "银行流水号", ("流水号", "交易流水号", "交易号", "凭证号"), True),
            Field("paid_date", "到账日期", ("交易日期", "日期", "入账日期", "到账时间", "交易时间"), True),
            Field("payer", "付款单位", ("付款人", "对方户名", "付款人名称", "对方账户名称", "付款方"), True),
            Field("amount", "金额", ("交易金额", "到账金额", "贷方金额", "收入金额", "入账金额"), True),
            Field("remark", "备注", ("摘要", "附言", "用途", "交易附言")),
        ]),
        _kind("reviews", "复核申请", "review_items", ["batch_code", "ticket_no"], [
            BATCH,
            Field("school_code", "院校代码", ("学校代码", "院校编号", "学校编号", "院校编码"), True),
            TICKET,
            Field("reason_type", "复核原因", ("原因", "复核类型", "申请原因", "复核项目", "复核内容"), True),
            Field("reason_text", "说明", ("复核说明", "申请说明", "备注", "情况说明", "详细说明")),
            Field("filed_at", "提交时间", ("申请时间", "提交日期", "申请日期"), True),
        ], batched=True),
    )
}


MAX_MESSAGE = 300
# No field of any export needs more (a remark, a long school name); a longer cell is refused on its row
# and not handed to the checks that follow.
MAX_CELL_BYTES = 3000


@dataclass
class Issue:
    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # or "warning"

    def line(self, file_name: str) -> str:
        return f"{file_name}:{self.row if self.row is not None else '-'}:{self.column or '-'}: {self.message}"


class Checker:
    """Collects issues for a frame whose index is 0..n-1 and whose row numbers are known."""

    def __init__(self, kind: Kind, row_numbers: list[int], headers: dict[str, str], header_row: int = 1):
        self.kind = kind
        self.header_row = header_row
        self.rows = np.asarray(row_numbers)
        self.headers = headers  # field -> header text as written in the file
        self.issues: list[Issue] = []
        self.bad = np.zeros(len(row_numbers), dtype=bool)

    def col(self, f: str) -> str:
        return self.headers.get(f) or self.kind.label_of(f)

    def flag(self, mask, f: str | None, message, severity="error") -> None:
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        column = self.col(f) if f else None
        for i in idx:
            msg = message(i) if callable(message) else message
            if len(msg) > MAX_MESSAGE:  # a message quoting a long cell stays readable
                msg = msg[:MAX_MESSAGE] + "…"
            self.issues.append(Issue(int(self.rows[i]), column, msg, severity))
        if severity == "error":
            self.bad |= mask

    def file_error(self, message: str, f: str | None = None) -> None:
        """A problem of the whole file, reported at its header row."""
        self.issues.append(Issue(self.header_row, self.col(f) if f else None, message))
        self.bad |= True

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


def present(s: pd.Series) -> np.ndarray:
    return s.notna().to_numpy()


def map_dict(s: pd.Series, mapping: dict) -> pd.Series:
    """s.map(mapping); done by pyarrow for text to text (pandas goes through a Python object per row)."""
    arr = arrow_text(s)
    if arr is None or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        return s.map(mapping)
    found = pc.index_in(arr, value_set=pa.array(list(mapping), arr.type))
    out = pc.take(pa.array(list(mapping.values()), pa.large_string()), found)
    return pd.Series(pd.array(out, dtype="str"), index=s.index)


def arrow_text(s: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow array behind a text Series of pandas' str dtype (no copy), or None for other Series."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return pa.chunked_array(s.array.__arrow_array__())
    return None


SPACE_BYTE, LOWER_BYTE, NON_ASCII_BYTE = 1, 2, 4
_BYTE_CLASS = np.zeros(256, dtype=np.uint8)
_BYTE_CLASS[[*range(9, 14), *range(28, 33)]] = SPACE_BYTE
_BYTE_CLASS[ord("a"): ord("z") + 1] = LOWER_BYTE
_BYTE_CLASS[0x80:] = NON_ASCII_BYTE
# Lead bytes of the multi-byte white space in SPACE_RUN (U+0085 ... U+3000) in UTF-8.
_BYTE_CLASS[[0xC2, 0xE1, 0xE2, 0xE3]] = NON_ASCII_BYTE | SPACE_BYTE


def byte_classes(s: pd.Series) -> int | None:
    """Which of SPACE_BYTE, LOWER_BYTE, NON_ASCII_BYTE occur in the bytes behind a text Series.

    A superset check (a buffer may hold bytes of values sliced away), a few milliseconds per
    million cells, so the regex passes below run only on columns that may need them. None when the
    Series is not Arrow text.
    """
    arr = arrow_text(s)
    if arr is None:
        return None
    found = 0
    for chunk in arr.chunks:
        data = chunk.buffers()[2]
        if data is None:
            continue
        view = np.frombuffer(data, dtype=np.uint8)
        for i in range(0, len(view), 1 << 20):  # a bounded temporary, reused
            found |= int(np.bitwise_or.reduce(_BYTE_CLASS[view[i: i + (1 << 20)]]))
        if found == SPACE_BYTE | LOWER_BYTE | NON_ASCII_BYTE:
            break
    return found


def map_values(ck: Checker, s: pd.Series, f: str, table: dict, what: str, allowed: str) -> pd.Series:
    """Normalise a coded column through its alias table; unknown values are errors.

    Each distinct value is normalised once (a million cells hold a handful of values)."""
    lookup = {v: table.get(norm_header(v)) for v in s.dropna().unique()}
    if lookup and all(isinstance(t, str) and t == v for v, t in lookup.items()):
        return s  # every value already in its canonical spelling (初级, 在校生…): nothing to map or flag
    norm = map_dict(s, {v: t for v, t in lookup.items() if t is not None})
    if len(norm) and norm.isna().all():
        norm = pd.Series([None] * len(s), index=s.index, dtype=object)
    elif norm.dtype == object:  # bool tables (YES_NO) leave None, not NaN, in the gaps
        norm = norm.astype(object).where(norm.notna(), None)
    ck.flag(present(s) & norm.isna().to_numpy(), f, lambda i: f"{what}「{s.iat[i]}」无效，应为 {allowed}")
    return norm


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0"): ord("9") + 1] = True
# The two shapes the platform writes: "2023-05-09 10:30:00" and "2023-05-09"; (width, separators).
_PLAIN_SHAPES = ((19, {4: "-", 7: "-", 10: " ", 13: ":", 16: ":"}), (10, {4: "-", 7: "-"}))


def _plain_timestamps(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as datetime64[us], which rows they are for) for the cells in one of _PLAIN_SHAPES that
    are real dates and times, read straight from the bytes. Whatever else, or whatever is doubtful
    (a year outside 1900-2099, 02-30, 24:00), is left to pandas, which has the last word.
    """
    out = np.full(len(s), np.datetime64("NaT", "us"))
    done = np.zeros(len(s), dtype=bool)
    for width, seps in _PLAIN_SHAPES:
        for first, fits, data in fixed_width(s, width):
            if not len(data):
                continue
            digit_cols = [j for j in range(width) if j not in seps]
            good = _DIGIT[data[:, digit_cols]].all(axis=1)
            for j, ch in seps.items():
                good &= data[:, j] == ord(ch)

            def num(a, b, data=data):
                v = data[:, a].astype(np.int64) - ord("0")
                for j in range(a + 1, b):
                    v = v * 10 + (data[:, j] - np.uint8(ord("0")))
                return v

            year, month, day = num(0, 4), num(5, 7), num(8, 10)
            zero = np.zeros(len(data), dtype=np.int64)
            hms = (num(11, 13), num(14, 16), num(17, 19)) if width == 19 else (zero, zero, zero)
            leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
            month_days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
            good &= (year >= 1900) & (year <= 2099) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
            if width == 19:
                good &= (hms[0] < 24) & (hms[1] < 60) & (hms[2] < 60)
            months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
            stamp = (months.astype("datetime64[D]") + (day - 1)).astype("datetime64[us]") + (
                (hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1_000_000).astype("timedelta64[us]")
            rows = np.flatnonzero(fits) + first
            out[rows[good]] = stamp[good]
            done[rows[good]] = True
    return out, done


def parse_dates(ck: Checker, s: pd.Series, f: str, with_time=False) -> pd.Series:
    # Exports almost always write ISO dates: those take one vectorised pass; only the rest are rewritten.
    plain, done = _plain_timestamps(s)
    todo = present(s) & ~done
    if not todo.any():
        return pd.Series(plain, index=s.index)
    if done.any():
        iso = pd.to_datetime(s.where(todo), errors="coerce", format="ISO8601")
        if iso.dtype != "datetime64[ns]":  # pandas reads [us] unless a value needs [ns]; [s] when all are missing
            iso = iso.astype("datetime64[us]")
        iso = iso.where(~done, pd.Series(plain, index=s.index))
    else:
        iso = pd.to_datetime(s, errors="coerce", format="ISO8601")
    rest = (s.notna() & iso.isna()).to_numpy()
    if not rest.any():
        return iso
    text = s.where(rest).str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "", regex=False).str.replace("T", " ")
    serial = text.str.fullmatch(r"\d{5}(\.\d+)?").fillna(False).astype(bool)
    candidates = text.where(~serial)
    out = pd.to_datetime(candidates, errors="coerce", format="ISO8601")
    retry = (candidates.notna() & out.isna()).to_numpy()
    if retry.any():
        out = out.where(~retry, pd.to_datetime(candidates.where(retry), errors="coerce", format="mixed"))
    if serial.any():
        days = pd.to_numeric(text.where(serial), errors="coerce")
        out = out.where(~serial, pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D"))
    out = iso.where(~rest, out)
    ck.flag(present(s) & out.isna().to_numpy(), f, lambda i: f"日期「{s.iat[i]}」无法识别，请写成 2023-05-09{' 10:30' if with_time else ''}")
    return out


def cap_cells(ck: Checker, cols: dict[str, pd.Series]) -> None:
    """Cells longer than MAX_CELL_BYTES are errors on their rows, and blanked for the checks that follow.
    Read from the Arrow offsets: a few milliseconds per million cells."""
    for f, s in list(cols.items()):
        arr = arrow_text(s)
        if arr is None:
            sizes = s.map(lambda v: len(v.encode("utf-8")) if isinstance(v, str) else 0).to_numpy()
        else:
            parts = []
            for chunk in arr.chunks:
                chunk = chunk.cast(pa.large_string()) if chunk.type != pa.large_string() else chunk
                offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset: chunk.offset + len(chunk) + 1]
                parts.append(np.diff(offsets))
            sizes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        long = sizes > MAX_CELL_BYTES
        if long.any():
            ck.flag(long, f, lambda i: f"单元格内容过长（{len(s.iat[i]):,} 个字符），超出正常导出的长度，请核对该单元格")
            cols[f] = s.mask(long)


def required_present(ck: Checker, cols: dict[str, pd.Series], n: int) -> None:
    for f in ck.kind.fields:
        if f.required and f.name in cols:
            ck.flag(~present(cols[f.name]), f.name, f"{f.label}不能为空")


def repeated_keys(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Positions (ascending) of the rows whose key occurs more than once in the frame.

    pandas hashes a million text keys in about half a second; DuckDB hashes and groups them in a
    few tens of milliseconds on both cores. Rows whose hash repeats are only candidates: they are
    compared on the key itself.
    """
    keys = frame[key]
    rows = _repeated_hashes(keys) if len(frame) >= 50_000 else None
    if rows is None:
        return np.flatnonzero(keys.duplicated(keep=False).to_numpy())
    if len(rows):
        rows = rows[keys.take(rows).duplicated(keep=False).to_numpy()]
    return rows


_hasher = None
_hasher_lock = threading.Lock()


def _repeated_hashes(keys: pd.DataFrame) -> np.ndarray | None:
    """Positions of the rows whose key hash (DuckDB's hash of the key columns, in an in-memory
    database of its own) occurs more than once; None if DuckDB cannot scan the columns."""
    global _hasher
    with _hasher_lock:
        if _hasher is None:
            _hasher = duckdb.connect(":memory:")
        cur = _hasher.cursor()
    try:
        cur.register("_keys", pa.Table.from_pandas(keys, preserve_index=False))  # as Arrow: see db.register
        hashed = "select hash(*columns(*)) as h from _keys"
        repeated = cur.execute("select h from (" + hashed + ") group by h having count(*) > 1").fetchnumpy()["h"]
        if not len(repeated):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.isin(cur.execute(hashed).fetchnumpy()["h"], repeated))
    except duckdb.Error:
        return None
    finally:
        cur.close()


def first_duplicates(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """frame.duplicated(subset=key, keep="first") as a bool array, by way of repeated_keys."""
    mask = np.zeros(len(frame), dtype=bool)
    rows = repeated_keys(frame, key)
    if len(rows):
        mask[rows[frame[key].take(rows).duplicated(keep="first").to_numpy()]] = True
    return mask


def duplicate_keys(ck: Checker, frame: pd.DataFrame, key: list[str]) -> None:
    rows = repeated_keys(frame, key)
    if not len(rows):
        return
    sub = frame[key].take(rows)
    keys = sub.astype("str").fillna("").agg("|".join, axis=1).tolist()
    first_rows, key_of = {}, {}
    for pos, k in zip(rows.tolist(), keys):
        first_rows.setdefault(k, ck.rows[pos])
        key_of[pos] = k
    dup = np.zeros(len(frame), dtype=bool)
    dup[rows[sub.duplicated(keep="first").to_numpy()]] = True
    labels = "+".join(ck.kind.label_of(k) for k in key)
    ck.flag(dup, key[-1], lambda i: f"文件内重复：{labels} 与第 {first_rows[key_of[i]]} 行相同")


def clean_code(s: pd.Series, ck: Checker | None = None, f: str | None = None) -> pd.Series:
    """Codes, ID and ticket numbers without white space anywhere, upper case.

    Given the Checker and the field, full-width digits and letters typed into the cells (２３１０…,
    ｘ) are made half-width first, with one warning for the column; without them (a caller that
    cannot report) they are left as typed.
    """
    found = byte_classes(s)
    if found is None:
        found = SPACE_BYTE | LOWER_BYTE | NON_ASCII_BYTE
    if ck is not None and found & NON_ASCII_BYTE:
        typed = s
        s, changed = half_width(s)
        if len(changed):
            row = int(ck.rows[changed[0]])
            ck.issues.append(Issue(row, ck.col(f), (
                f"「{ck.col(f)}」列有 {len(changed)} 个单元格含全角字符，已转为半角"
                f"（如第 {row} 行「{typed.iat[int(changed[0])]}」）"), "warning"))
    if found & SPACE_BYTE:
        s = s.str.replace(SPACE_RUN, "", regex=True)
    if found & (LOWER_BYTE | NON_ASCII_BYTE):  # str.upper() also changes ｘ and other non-ASCII letters
        s = s.str.upper()
    return s


normalise_ids = clean_code

# U+FF01-U+FF5E, the full-width forms of ASCII ! to ~, are EF BC 81-BF and EF BD 80-9E in UTF-8.
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")


def half_width(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The cells holding full-width ASCII forms (２, Ａ, ｘ, －) normalised with NFKC, and the positions
    of those cells (ascending).

    Only those cells are normalised: found from the column's bytes (a lead byte EF followed by BC
    or BD), so a column of other non-ASCII text (姓名) costs one scan of its bytes.
    """
    arr = arrow_text(s)
    if arr is None:
        texts = s.where(s.notna(), "").astype(str)
        hit = texts.str.contains(_FULL_WIDTH).to_numpy(dtype=bool)
        rows = np.flatnonzero(hit)
        if not len(rows):
            return s, rows
        out = s.copy()
        out.iloc[rows] = [unicodedata.normalize("NFKC", v) for v in texts.iloc[rows]]
        return out, rows
    chunks, found, first = [], [], 0
    for chunk in arr.chunks:
        rows = _full_width_rows(chunk)
        if len(rows):
            mask = np.zeros(len(chunk), dtype=bool)
            mask[rows] = True
            chunk = pc.replace_with_mask(chunk, pa.array(mask), pc.utf8_normalize(chunk.take(pa.array(rows)), "NFKC"))
            found.append(rows + first)
        chunks.append(chunk)
        first += len(chunk)
    if not found:
        return s, np.zeros(0, dtype=np.int64)
    out = pa.chunked_array(chunks, arr.type)
    return pd.Series(pd.array(out, dtype=s.dtype), index=s.index), np.concatenate(found)


def _full_width_rows(chunk: pa.Array) -> np.ndarray:
    """Positions (ascending) of the values of a string array with a character in U+FF01-U+FF5E."""
    if chunk.type != pa.large_string():
        chunk = chunk.cast(pa.large_string())
    if not len(chunk) or chunk.buffers()[2] is None:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset: chunk.offset + len(chunk) + 1]
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    lead = np.flatnonzero(data[:-2] == 0xEF)
    if not len(lead):
        return np.zeros(0, dtype=np.int64)
    second, third = data[lead + 1], data[lead + 2]
    hit = lead[((second == 0xBC) & (third >= 0x81)) | ((second == 0xBD) & (third <= 0x9E))]
    rows = np.unique(np.searchsorted(offsets, hit + offsets[0], side="right") - 1)
    if chunk.null_count and len(rows):
        rows = rows[chunk.is_valid().to_numpy(zero_copy_only=False)[rows]]
    return rows


_CHECKS = np.frombuffer(ids.CHECK.encode("ascii"), dtype=np.uint8)


def fixed_width(s: pd.Series, width: int):
    """(first row, rows of the chunk that are exactly `width` bytes, their bytes as a (k, width) uint8
    array) for each Arrow chunk behind a text Series; a view of the column's own bytes, no copy,
    when every value of the chunk has that width. Nothing for a Series that is not Arrow text.
    """
    arr = arrow_text(s)
    if arr is None:
        return
    first = 0
    for chunk in arr.chunks:
        n = len(chunk)
        if chunk.type != pa.large_string():
            chunk = chunk.cast(pa.large_string())
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset: chunk.offset + n + 1]
        fits = np.diff(offsets) == width
        if chunk.null_count:
            fits &= chunk.is_valid().to_numpy(zero_copy_only=False)
        if n and fits.all():
            data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]].reshape(-1, width)
        elif fits.any():
            picked = chunk.filter(pa.array(fits))
            off = np.frombuffer(picked.buffers()[1], dtype=np.int64)[picked.offset: picked.offset + len(picked) + 1]
            data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)[off[0]: off[-1]].reshape(-1, width)
        else:
            data = np.zeros((0, width), dtype=np.uint8)
        yield first, fits, data
        first += n


def check_ids(ck: Checker, s: pd.Series, f: str) -> None:
    """GB 11643 check digits of a whole column, on the bytes of the 18-byte values (no regex, no per-row Python)."""
    if arrow_text(s) is None:
        ok = ids.ids_valid(s.fillna("").tolist())
    else:
        ok = np.zeros(len(s), dtype=bool)
        for first, fits, data in fixed_width(s, 18):
            digits = data[:, :17] - np.uint8(ord("0"))  # wraps below '0', so one bound checks both ends
            last = data[:, 17]
            shape = (digits <= 9).all(axis=1) & (((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X")))
            total = digits.astype(np.int16) @ ids.WEIGHTS.astype(np.int16)
            ok[first: first + len(fits)][fits] = shape & (_CHECKS[total % 11] == last)
    ck.flag(present(s) & ~ok, f, lambda i: _id_problem(s.iat[i]))


def _id_problem(v: str) -> str:
    if not re.fullmatch(r"\d{17}[\dX]", v):
        if re.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+", v) or (v.isdigit() and len(v) > 15 and v.endswith("000")):
            return f"身份证号「{v}」被 Excel 存成了数字而丢失精度，请把该列设为文本后重新导出"
        return f"身份证号「{v}」格式不对：应为 18 位，前 17 位是数字，最后一位是数字或 X"
    return f"身份证号「{v}」校验位错误（GB 11643），应为 {ids.id_check_char(v[:17])}"
