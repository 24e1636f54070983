-- name: registrations_by_province
-- purpose: valid registrations per province (the school's) and level
-- grain: one row per province and level with registrations
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: province, level
with results_in as (
    select province, level
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
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
