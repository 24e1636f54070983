-- name: school_results_by_level
-- purpose: one school's registered, sat, absent and passed candidates per level, for its portal
-- grain: one row per level of the batch at the school
-- params: $batch, $school
-- key: level
with results_in as (
    select *
    from results
    where batch_code = $batch
      and school_code = $school
      and ($scope_school is null or school_code = $scope_school)
),
per_level as (
    select
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(not sat)::bigint as absent,
        count_if(passed is true)::bigint as passed
    from results_in
    group by level
),
final as (
    select *, case when sat > 0 then passed / sat end as pass_rate
    from per_level
    order by level = '中级', level
)
select * from final
