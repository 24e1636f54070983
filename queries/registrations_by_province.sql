-- name: registrations_by_province
-- purpose: valid registrations per province (the school's) and level
-- grain: one row per province and level with registrations
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
with results_in as (
    select province, level
    from results
    where batch_code = $batch
        and ($level is null or level = $level)
        and ($province is null or province = $province)
        and ($site is null or site_code = $site)
        and ($school is null or school_code = $school)
        and ($candidate_type is null or candidate_type = $candidate_type)
),
per_province as (
    select coalesce(province, '（未知）') as province, level, count(*)::bigint as registered
    from results_in
    group by all
),
final as (
    select * from per_province
    order by province, level = '中级'
)
select * from final
