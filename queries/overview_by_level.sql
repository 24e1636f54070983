-- name: overview_by_level
-- purpose: headline figures of a batch per level: registered, sat, passed, pass rate, with the rule in force
-- grain: one row per level of the batch
-- params: $batch
with results_in as (
    select * from results where batch_code = $batch
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
per_level as (
    select
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(passed)::bigint as passed,
        count_if(not sat)::bigint as absent,
        count(distinct site_code)::bigint as sites,
        count(distinct school_code)::bigint as schools
    from results_in
    group by level
),
final as (
    select
        p.level,
        p.registered,
        p.sat,
        p.absent,
        p.passed,
        case when p.sat > 0 then p.passed / p.sat end as pass_rate,
        p.sites,
        p.schools,
        coalesce(r.rule, 'both_parts') as pass_rule
    from per_level p
    left join rules r using (level)
    order by p.level = '中级', p.level
)
select * from final
