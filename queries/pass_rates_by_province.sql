-- name: pass_rates_by_province
-- purpose: pass rate per province (the school's) and level with its denominators and the pass rule in force
-- grain: one row per province and level with registrations
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: province, level
with results_in as (
    select province, level, sat, passed
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
per_province as (
    select
        coalesce(province, '（未知）') as province,
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(passed is true)::bigint as passed
    from results_in
    group by all
),
final as (
    select
        p.province,
        p.level,
        p.registered,
        p.sat,
        p.passed,
        case when p.sat > 0 then p.passed / p.sat end as pass_rate,
        coalesce(r.rule, 'both_parts') as pass_rule
    from per_province p
    left join rules r using (level)
    order by p.province, p.level = '中级'
)
select * from final
