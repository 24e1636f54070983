-- name: peer_rates_by_level
-- purpose: provincial (when $province is given) or national pass rates per level: aggregates only, for comparison;
--          a level with candidates from fewer than 3 schools is left out (with 2, a school could subtract its
--          own figures and read the other school's)
-- grain: one row per level of the batch with candidates from at least 3 schools
-- params: $batch, $province?
-- key: level
-- access: all
with results_in as (
    select *
    from results
    where batch_code = $batch
      and ($province is null or province = $province)
),
per_level as (
    select
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(passed is true)::bigint as passed,
        count(distinct school_code)::bigint as schools
    from results_in
    group by level
    having count(distinct school_code) >= 3
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
final as (
    select p.*, case when p.sat > 0 then p.passed / p.sat end as pass_rate, coalesce(r.rule, 'both_parts') as pass_rule
    from per_level p
    left join rules r using (level)
    order by p.level = '中级', p.level
)
select * from final
