"""The exam plan (data/exam_plan.toml): batches, their calendars, pass rules, provisional fees."""

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


@dataclass(frozen=True)
class Plan:
    batches: tuple[Batch, ...]
    provisional_fen: dict[str, int]


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
    return Plan(batches=tuple(batches), provisional_fen={k: int(round(float(v) * 100)) for k, v in fees.items()})


