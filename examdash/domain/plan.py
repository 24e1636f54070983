"""The exam plan (data/exam_plan.toml): batches, their calendars, pass rules, provisional fees, and the
payee of the fees with the remark rule of the notice."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

from examdash.config import EXAM_PLAN

LEVELS = ("初级", "中级")
PASS_RULES = ("both_parts", "weighted")


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class Stage:
    seq: int
    stage: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class Batch:
    code: str
    name: str
    exam_date: dt.date
    reg_deadline: dt.date
    publicity_start: dt.date
    publicity_end: dt.date
    cert_from: dt.date
    pass_rule: dict[str, str]
    stages: tuple[Stage, ...]


SCHOOL_NAME = "{单位名称}"  # where the paying school's name goes in the payee's remark rule
PAYEE_FIELDS = {"company": "公司名称", "taxpayer_id": "纳税人识别号", "address": "地址", "phone": "电话",
                "bank": "开户行", "account": "账号", "remark": "付款备注"}


@dataclass(frozen=True)
class Payee:
    """Who the schools pay (汇款账户信息) and what their transfer's remark must say."""

    company: str
    taxpayer_id: str
    address: str
    phone: str
    bank: str
    account: str
    remark: str  # the rule, with {单位名称} where the school's name goes: "{单位名称}1+X考核费用"

    def remark_for(self, school_name: str) -> str:
        """The exact remark text for one school's transfer."""
        return self.remark.replace(SCHOOL_NAME, school_name)

    @property
    def remark_fixed(self) -> str:
        """The rule's words besides the school's name (what every remark carries)."""
        return self.remark.replace(SCHOOL_NAME, "")

    @property
    def remark_rule(self) -> str:
        """The rule in words, as the notice puts it."""
        return self.remark.replace(SCHOOL_NAME, "单位名称 + ")

    def lines(self) -> list[tuple[str, str]]:
        return [(PAYEE_FIELDS[k], getattr(self, k)) for k in ("company", "taxpayer_id", "address", "phone", "bank",
                                                               "account")]


AUDIENCES = {"school": "院校", "site": "考点", "staff": "组织方"}


@dataclass(frozen=True)
class Todo:
    """One thing the notice asks of someone in a stage."""

    stage: str
    seq: int
    audience: str  # a key of AUDIENCES
    text: str


@dataclass(frozen=True)
class Contact:
    """考务咨询: the organiser's phone and QQ group, as the notice gives them."""

    phone: str
    qq_group: str = ""
    qq_group_name: str = ""

    def line(self) -> str:
        qq = f"；QQ 群 {self.qq_group}" + (f"（{self.qq_group_name}）" if self.qq_group_name else "") if self.qq_group else ""
        return f"考务咨询电话 {self.phone}{qq}"


@dataclass(frozen=True)
class Plan:
    batches: tuple[Batch, ...]
    provisional_fen: dict[str, int]
    payee: Payee
    todos: tuple[Todo, ...] = ()
    contact: Contact | None = None


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise PlanError(f"{where}：应为日期（如 2023-05-27），实际为 {value!r}")


def load_plan(path: Path = EXAM_PLAN) -> Plan:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlanError(f"{path}：无法读取考试计划：{exc}") from exc
    fees = raw.get("provisional_fees", {})
    if set(fees) != set(LEVELS):
        raise PlanError(f"{path}：[provisional_fees] 须且仅须包含 初级、中级")
    payee = _payee(raw.get("payee"), path)
    batches = []
    for i, b in enumerate(raw.get("batch", []), start=1):
        where = f"{path} 第 {i} 个 [[batch]]"
        try:
            code, name = str(b["code"]), str(b["name"])
            pub = b["publicity"]
            rule = dict(b.get("pass_rule", {}))
        except KeyError as exc:
            raise PlanError(f"{where}：缺少 {exc.args[0]}") from exc
        for level in LEVELS:
            rule.setdefault(level, "both_parts")
            if rule[level] not in PASS_RULES:
                raise PlanError(f"{where}：pass_rule.{level} 须为 both_parts 或 weighted")
        stages = tuple(
            Stage(
                seq=j,
                stage=str(s["stage"]),
                start=_date(s["start"], where) if "start" in s else None,
                end=_date(s["end"], where) if "end" in s else None,
            )
            for j, s in enumerate(b.get("stages", []), start=1)
        )
        batches.append(
            Batch(
                code=code,
                name=name,
                exam_date=_date(b.get("exam_date"), f"{where} exam_date"),
                reg_deadline=_date(b.get("reg_deadline"), f"{where} reg_deadline"),
                publicity_start=_date(pub[0], f"{where} publicity"),
                publicity_end=_date(pub[1], f"{where} publicity"),
                cert_from=_date(b.get("cert_from"), f"{where} cert_from"),
                pass_rule=rule,
                stages=stages,
            )
        )
    if len({b.code for b in batches}) != len(batches):
        raise PlanError(f"{path}：批次代码重复")
    return Plan(batches=tuple(batches), provisional_fen={k: int(round(float(v) * 100)) for k, v in fees.items()},
                payee=payee, todos=_todos(raw.get("todos", {}), path, {s.stage for b in batches for s in b.stages}),
                contact=_contact(raw.get("contact"), path))


def _contact(raw, path) -> Contact | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not str(raw.get("phone", "")).strip():
        raise PlanError(f"{path} [contact]：须有 phone（考务咨询电话）")
    extra = sorted(set(raw) - {"phone", "qq_group", "qq_group_name"})
    if extra:
        raise PlanError(f"{path} [contact]：不认识的项 {'、'.join(extra)}")
    return Contact(**{k: str(v).strip() for k, v in raw.items()})


_CURRENT: dict[str, tuple[int, Plan]] = {}


def current(path: Path = EXAM_PLAN) -> Plan:
    """load_plan, read again only when the file changed (for code that runs on every request)."""
    mtime = Path(path).stat().st_mtime_ns
    hit = _CURRENT.get(str(path))
    if hit is None or hit[0] != mtime:
        hit = _CURRENT[str(path)] = (mtime, load_plan(path))
    return hit[1]


def _todos(raw, path, stages: set[str]) -> tuple[Todo, ...]:
    if not isinstance(raw, dict):
        raise PlanError(f"{path} [todos]：应为「阶段名 = [ {{ who = ..., text = ... }}, ... ]」")
    todos = []
    for stage, items in raw.items():
        where = f"{path} [todos] {stage!r}"
        if stage not in stages:
            raise PlanError(f"{where}：没有批次的日程里有这个阶段（阶段名须与 [[batch]] stages 中的一致）")
        if not isinstance(items, list):
            raise PlanError(f"{where}：应为列表")
        for seq, item in enumerate(items, start=1):
            if not isinstance(item, dict) or set(item) != {"who", "text"}:
                raise PlanError(f"{where} 第 {seq} 项：须且仅须有 who 与 text")
            if item["who"] not in AUDIENCES:
                raise PlanError(f"{where} 第 {seq} 项：who 须为 {'、'.join(AUDIENCES)} 之一，实际为 {item['who']!r}")
            if not str(item["text"]).strip():
                raise PlanError(f"{where} 第 {seq} 项：text 为空")
            todos.append(Todo(stage, seq, item["who"], str(item["text"]).strip()))
    return tuple(todos)


def _payee(raw, path) -> Payee:
    if not isinstance(raw, dict):
        raise PlanError(f"{path}：缺少 [payee]（收款单位、纳税人识别号、开户行、账号与付款备注规则）")
    missing = [f"{k}（{label}）" for k, label in PAYEE_FIELDS.items() if not str(raw.get(k, "")).strip()]
    if missing:
        raise PlanError(f"{path} [payee]：缺少 {'、'.join(missing)}")
    extra = sorted(set(raw) - set(PAYEE_FIELDS))
    if extra:
        raise PlanError(f"{path} [payee]：不认识的项 {'、'.join(extra)}")
    values = {k: str(raw[k]).strip() for k in PAYEE_FIELDS}
    if values["remark"].count(SCHOOL_NAME) != 1 or values["remark"] == SCHOOL_NAME:
        raise PlanError(f"{path} [payee] remark：须含一次 {SCHOOL_NAME} 和其余备注文字，如 \"{SCHOOL_NAME}1+X考核费用\"")
    if not values["account"].replace(" ", "").isdigit():
        raise PlanError(f"{path} [payee] account：账号应为数字，实际为 {values['account']!r}")
    return Payee(**values)


