-- name: rebuild_results
-- purpose: refill the pre-joined results rows of one batch (registration + attendance + latest score + verdict)
-- grain: one row per valid registration (batch, id_no, level); province is the school's
-- params: $batch
-- Verdict: sat = signed in (已签到 or 违纪) or, without a sign-in row, a score that is not 缺考;
-- 违纪 never passes; otherwise the batch/level pass rule decides (both_parts: each part reaches the pass
-- mark; weighted: the weighted total does), with the weights and the mark of score_rule (filled from
-- examdash/domain/rules.py). No score yet means no verdict (null).
insert into results
with regs as (
    select * from registrations where batch_code = $batch and status = '正常'
),
att as (
    select ticket_no, status from attendance where batch_code = $batch
),
latest as (
    select *
    from score_versions
    where batch_code = $batch
    qualify row_number() over (partition by ticket_no order by version desc) = 1
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
school_rows as (
    select school_code, province from schools
),
joined as (
    select
        r.batch_code, r.id_no, r.level, r.name, r.school_code, sc.province, r.site_code, r.candidate_type,
        r.registered_at, r.ticket_no,
        a.status as attendance_status,
        s.version as score_version, s.theory, s.practical, s.total, s.absent, s.supplied_passed,
        coalesce(ru.rule, 'both_parts') as rule
    from regs r
    left join att a on a.ticket_no = r.ticket_no
    left join latest s on s.ticket_no = r.ticket_no
    left join rules ru on ru.level = r.level
    left join school_rows sc on sc.school_code = r.school_code
),
verdicts as (
    select
        batch_code, id_no, level, name, school_code, province, site_code, candidate_type, registered_at, ticket_no,
        attendance_status,
        case
            when attendance_status in ('已签到', '违纪') then true
            when attendance_status = '缺考' then false
            else coalesce(not absent, false)
        end as sat,
        score_version, theory, practical, total,
        case
            when attendance_status = '缺考' or absent then false
            when attendance_status = '违纪' then false
            when score_version is null then null
            when rule = 'weighted'
                then (select theory_weight from score_rule) * theory + (select practical_weight from score_rule) * practical
                    >= (select pass_mark from score_rule)
            else theory >= (select pass_mark from score_rule) and practical >= (select pass_mark from score_rule)
        end as passed,
        supplied_passed
    from joined
),
final as (
    select * exclude (supplied_passed),
        coalesce(supplied_passed is not null and passed is not null and supplied_passed <> passed, false) as verdict_mismatch
    from verdicts
)
select * from final
