-- name: pass_rates_by_level
-- purpose: pass rate per level (passed / sat) with its denominators and the pass rule in force
-- grain: one row per level with registrations
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: level
with results_in as (
    select level, sat, passed, score_version
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
per_level as (
    select
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(passed is true)::bigint as passed,
        count_if(sat and score_version is not null)::bigint as scored
    from results_in
    group by level
),
final as (
    select
        p.level,
        p.registered,
        p.sat,
        p.passed,
        case when p.sat > 0 then p.passed / p.sat end as pass_rate,
        coalesce(r.rule, 'both_parts') as pass_rule,
        p.scored
    from per_level p
    left join rules r using (level)
    order by p.level = '中级', p.level
)
select * from final
