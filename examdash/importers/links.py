"""What a re-import may do to rows that other tables hang on.

A corrected file replaces the stored rows its keys cover. Some columns are links: sign-ins, scores and
review items hang on a registration's 准考证号; fees and review requests on its 院校; a site's host
school decides who pays for its social candidates. So, per kind:

- a link column that the file lacks, or leaves empty, where the stored row has a value is refused,
  with what would lose its link (清空 would orphan the rows that hang on it);
- a changed link value is shown before anything is written (the import page and ``--dry-run``) with the
  sign-ins, scores, payments and review items it touches, and needs a confirmation; a changed 准考证号
  takes its sign-ins, score versions and review items along (they follow the candidate, whose key is
  批次 + 身份证号 + 级别);
- any other column the file lacks keeps its stored value (a shorter export changes nothing it does not
  show); scores are the exception: a new score version's 总成绩 is computed and its exported verdict is
  unknown when the file has no such column, so those two are only left out of the comparison.

Everything here runs on the temp table ``_cmp`` that the importer builds (staged rows beside the stored
ones: ``_change`` is added / replaced / unchanged, ``_old_<column>`` the stored value, ``_pos`` the row's
position in the file), inside the caller's transaction. Identifiers come from the allowlists below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from examdash.importers.kinds import KINDS
from examdash.store import db

# Columns every row has whatever the file's columns (the key, what validation derives or requires).
ALWAYS_PRESENT = {
    "registrations": {"batch_code", "school_code", "site_code"},  # codes, or looked up from names / the site
    "attendance": {"batch_code"},
    "scores": {"batch_code", "absent"},
}
# Table column -> the file field it comes from, where the two differ.
SOURCE = {("scores", "supplied_passed"): "passed", ("fee-standards", "amount_fen"): "amount",
          ("payments", "amount_fen"): "amount"}
# Link columns: lacking or emptying them where stored rows have a value is refused.
LINKS = {"registrations": ("ticket_no",), "sites": ("school_code",)}
LABELS = {("registrations", "ticket_no"): "准考证号", ("sites", "school_code"): "所属院校代码"}
# Kinds whose absent columns are derived afresh for a new version instead of kept (see the docstring).
DERIVED_KINDS = {"scores"}


def absent_columns(kind: str, columns: list[str], fields_in_file) -> list[str]:
    """Table columns (outside the key) whose field the file does not have."""
    spec = KINDS[kind]
    fields = set(fields_in_file)
    return [c for c in columns if c not in spec.key and c not in ALWAYS_PRESENT.get(kind, ())
            and SOURCE.get((kind, c), c) not in fields]


def kept_columns(kind: str, absent: list[str]) -> list[str]:
    """Absent columns whose stored value a replaced row keeps."""
    if kind in DERIVED_KINDS:
        return []
    return [c for c in absent if c not in LINKS.get(kind, ())]


def compared_columns(kind: str, columns: list[str], absent: list[str]) -> list[str]:
    """Columns whose difference makes a stored row 'replaced'. A missing link column is compared (and
    so found blank and refused); other missing columns are not (kept or derived)."""
    links = LINKS.get(kind, ())
    return [c for c in columns if c not in KINDS[kind].key and (c not in absent or c in links)]


@dataclass
class Review:
    """What staging found: errors that block the import, and consequences to show before writing."""

    errors: list[tuple[int | None, str | None, str]] = field(default_factory=list)  # (position or None, column, text)
    impacts: list[str] = field(default_factory=list)
    needs_confirm: bool = False

    def impact(self, text: str, confirm: bool) -> None:
        self.impacts.append(text)
        self.needs_confirm |= confirm


def _one(cur, sql: str, params: dict | None = None) -> int:
    return int(cur.execute(sql, params or {}).fetchall()[0][0] or 0)


def _n(x: int) -> str:
    return f"{x:,}"


# Views over _cmp, each one row per staged row whose link changed (old and new side by side).
_RELINK = ("create or replace temp view _relink as select batch_code, _old_ticket_no as old, ticket_no as new "
           "from _cmp where _change = 'replaced' and _old_ticket_no is not null and ticket_no is not null "
           "and _old_ticket_no <> ticket_no")
_HANGING = {  # label -> count of rows hanging on the tickets in _t (batch_code, ticket_no)
    "签到": "select count(*) from attendance a join _t using (batch_code, ticket_no)",
    "成绩": "select count(distinct (s.batch_code, s.ticket_no)) from score_versions s join _t using (batch_code, ticket_no)",
    "复核项": "select count(*) from review_items i join review_requests r using (request_id) "
              "join _t on _t.batch_code = r.batch_code and _t.ticket_no = i.ticket_no",
}
_UNITS = {"签到": "条", "成绩": "名考生", "复核项": "项"}


def _hanging(cur, tickets_sql: str) -> dict[str, int]:
    """How many sign-ins, scored candidates and review items hang on the tickets the SQL selects."""
    cur.execute("create or replace temp view _t as " + tickets_sql)
    return {label: _one(cur, sql) for label, sql in _HANGING.items()}


def _words(counts: dict[str, int]) -> str:
    parts = [f"{label} {_n(n)} {_UNITS[label]}" for label, n in counts.items() if n]
    return "、".join(parts)


def review(cur, kind: str, absent: list[str], replaced: int) -> Review:
    """Errors and consequences of writing the staged rows (nothing is written here)."""
    out = Review()
    for column in LINKS.get(kind, ()):
        _blanked(cur, kind, column, column in absent, out)
    if replaced and not out.errors:
        IMPACTS[kind](cur, out)
    return out


def _blanked(cur, kind: str, column: str, lacking: bool, out: Review) -> None:
    label = LABELS[(kind, column)]
    new, old = db.identifier(column, LINKS[kind]), db.identifier(f"_old_{column}", {f"_old_{c}" for c in LINKS[kind]})
    where = "_change = 'replaced' and " + old + " is not null and " + new + " is null"
    rows = cur.execute("select _pos, " + old + " from _cmp where " + where + " order by _pos").fetchall()
    if not rows:
        return
    if kind == "registrations":
        lost = _words(_hanging(cur, "select batch_code, " + old + " as ticket_no from _cmp where " + where))
        lost_text = f"挂在这些准考证号上的{lost}将失去关联" if lost else "这些考生将没有准考证号"
        what = "报名"
    else:
        n_regs = _one(cur, "select count(*) from registrations where site_code in (select site_code from _cmp where "
                           + where + ")")
        lost_text = f"这些考点的 {_n(n_regs)} 条报名将失去所属院校（社会考生按考点所属院校缴费）"
        what = "考点"
    if lacking:
        out.errors.append((None, label, f"文件没有「{label}」列，而其中 {_n(len(rows))} 条已有{what}带有{label}：导入会清空它们，"
                                        f"{lost_text}。已拒绝导入；请导入包含「{label}」列的完整导出。"))
        return
    for pos, value in rows:
        out.errors.append((pos, label, f"「{label}」为空，而已有{what}的{label}为「{value}」：不能清空（其关联数据会失去关联）；"
                                       f"请填写{label}"))


def _registrations(cur, out: Review) -> None:
    cur.execute(_RELINK)
    moved = _one(cur, "select count(*) from _relink")
    if moved:
        hanging = _hanging(cur, "select batch_code, old as ticket_no from _relink")
        words = _words(hanging)
        out.impact(f"{_n(moved)} 名考生的准考证号将更改" + (f"：其{words}随之改挂到新准考证号" if words else "（尚无签到、成绩或复核记录）"),
                   any(hanging.values()))
    school = ("from _cmp where _change = 'replaced' and _old_school_code is distinct from school_code")
    moved = _one(cur, "select count(*) " + school)
    if moved:
        schools = ("select _old_school_code as s " + school + " union select school_code " + school)
        n_schools = _one(cur, f"select count(*) from ({schools})")
        paid = _one(cur, f"select count(*) from payments where school_code in ({schools})")
        items = _hanging(cur, "select batch_code, _old_ticket_no as ticket_no " + school)["复核项"]
        text = f"{_n(moved)} 名考生将改换院校：{_n(n_schools)} 所院校的应缴费用随之变化（这些院校已有到账 {_n(paid)} 笔）"
        if items:
            text += f"；其中 {_n(items)} 项复核仍留在原院校的复核申请中"
        out.impact(text, True)
    site = "from _cmp where _change = 'replaced' and _old_site_code is distinct from site_code"
    moved = _one(cur, "select count(*) " + site)
    if moved:
        signed = _hanging(cur, "select batch_code, _old_ticket_no as ticket_no " + site)["签到"]
        out.impact(f"{_n(moved)} 名考生将改换考点" + (f"，其中 {_n(signed)} 人已有签到记录（签到记在原考点）" if signed else ""),
                   bool(signed))
    status = "from _cmp where _change = 'replaced' and _old_status is distinct from status"
    moved = _one(cur, "select count(*) " + status)
    if moved:
        cancelled = _one(cur, "select count(*) " + status + " and status = '已取消'")
        words = _words(_hanging(cur, "select batch_code, _old_ticket_no as ticket_no " + status))
        out.impact(f"{_n(moved)} 条报名的报名状态将改变（其中改为「已取消」{_n(cancelled)} 条，已取消的报名不计费、不计入统计）"
                   + (f"；涉及{words}" if words else ""), True)


def _sites(cur, out: Review) -> None:
    changed = "from _cmp where _change = 'replaced' and _old_school_code is distinct from school_code"
    moved = _one(cur, "select count(*) " + changed)
    if moved:
        regs = _one(cur, "select count(*) from registrations r join _cmp c on r.site_code = c.site_code "
                         "where c._change = 'replaced' and c._old_school_code is distinct from c.school_code")
        out.impact(f"{_n(moved)} 个考点的所属院校将改变：这些考点有报名 {_n(regs)} 条（已导入的社会考生仍记在原院校名下）", bool(regs))


def _schools(cur, out: Review) -> None:
    changed = ("from _cmp where _change = 'replaced' and (_old_province is distinct from province "
               "or _old_school_name is distinct from school_name)")
    moved = _one(cur, "select count(*) " + changed)
    if moved:
        codes = "select school_code " + changed
        regs = _one(cur, f"select count(*) from registrations where school_code in ({codes})")
        paid = _one(cur, f"select count(*) from payments where school_code in ({codes})")
        out.impact(f"{_n(moved)} 所院校的名称或省份将改变：涉及报名 {_n(regs)} 条（省份决定收费标准）、已匹配到账 {_n(paid)} 笔"
                   "（按名称匹配）", bool(regs or paid))


def _attendance(cur, out: Review) -> None:
    changed = "from _cmp where _change = 'replaced' and _old_status is distinct from status"
    moved = _one(cur, "select count(*) from _cmp where _change = 'replaced'")
    flipped = _one(cur, "select count(*) " + changed)
    hanging = _hanging(cur, "select batch_code, ticket_no " + changed)
    text = f"将替换 {_n(moved)} 条签到记录"
    if flipped:
        text += f"，其中 {_n(flipped)} 条签到状态改变（合格结论随之重新计算"
        text += f"；涉及{_words({k: v for k, v in hanging.items() if k != '签到'})}）" if hanging["成绩"] or hanging["复核项"] else "）"
    out.impact(text, bool(flipped and (hanging["成绩"] or hanging["复核项"])))


def _scores(cur, out: Review) -> None:
    moved = _one(cur, "select count(*) from _cmp where _change = 'replaced'")
    corrected = _one(
        cur, "select count(*) from _cmp c join (select batch_code, ticket_no, source from score_versions "
             "qualify row_number() over (partition by batch_code, ticket_no order by version desc) = 1) v "
             "using (batch_code, ticket_no) where c._change = 'replaced' and v.source = 'review'")
    items = _hanging(cur, "select batch_code, ticket_no from _cmp where _change = 'replaced'")["复核项"]
    text = f"{_n(moved)} 名考生将新增成绩版本（原版本保留，各页面采用最新版本）"
    if corrected:
        text += f"；其中 {_n(corrected)} 人当前的成绩是复核更正后的，导入后将以本文件的成绩为准"
    if items:
        text += f"；这些考生有复核项 {_n(items)} 项"
    out.impact(text, bool(corrected or items))


def _payments(cur, out: Review) -> None:
    moved = _one(cur, "select count(*) from _cmp where _change = 'replaced'")
    matched = _one(cur, "select count(*) from payments p join _cmp c using (bank_ref) "
                        "where c._change = 'replaced' and p.school_code is not null")
    manual = _one(cur, "select count(*) from payments p join _cmp c using (bank_ref) "
                       "where c._change = 'replaced' and p.assigned_by is not null")
    out.impact(f"将替换 {_n(moved)} 笔到账记录，其中 {_n(matched)} 笔已匹配到院校"
               f"（人工认领的 {_n(manual)} 笔保留认领结果，其余重新自动匹配），相关院校的余额随之变化", bool(matched))


def _fee_standards(cur, out: Review) -> None:
    moved = _one(cur, "select count(*) from _cmp where _change = 'replaced'")
    regs = _one(cur, "select count(*) from registrations r join schools s using (school_code) "
                     "where s.province in (select province from _cmp where _change = 'replaced')")
    out.impact(f"将替换 {_n(moved)} 条收费标准：所涉省份的 {_n(regs)} 条报名的应缴费用随之重新计算", bool(regs))


IMPACTS = {"registrations": _registrations, "sites": _sites, "schools": _schools, "attendance": _attendance,
           "scores": _scores, "payments": _payments, "fee-standards": _fee_standards}


RELINKED = ("attendance", "score_versions")  # the tables whose rows hang on a ticket by (batch_code, ticket_no)


def relink_tickets(cur) -> int:
    """Move the sign-ins, score versions and review items of changed tickets to the new ticket (one
    statement per table, so two candidates who swap tickets are moved correctly). Returns rows moved."""
    cur.execute(_RELINK)
    moved = 0
    for name in RELINKED:
        table = db.identifier(name, RELINKED)
        moved += _one(cur, "select count(*) from " + table + " x join _relink m on x.batch_code = m.batch_code "
                           "and x.ticket_no = m.old")
        cur.execute("update " + table + " set ticket_no = m.new from _relink m "
                    "where " + table + ".batch_code = m.batch_code and " + table + ".ticket_no = m.old")
    moved += _one(cur, "select count(*) from review_items i join review_requests r using (request_id) "
                       "join _relink m on m.batch_code = r.batch_code and i.ticket_no = m.old")
    cur.execute("update review_items set ticket_no = m.new from review_requests r, _relink m "
                "where review_items.request_id = r.request_id and m.batch_code = r.batch_code "
                "and review_items.ticket_no = m.old")
    return moved
