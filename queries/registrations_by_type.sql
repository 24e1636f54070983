-- name: registrations_by_type
-- purpose: valid registrations per level and candidate type (在校生 / 社会考生)
-- grain: one row per level and candidate type with registrations
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: level, candidate_type
with results_in as (
    select level, candidate_type
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
),
per_type as (
    select level, candidate_type, count(*)::bigint as registered
    from results_in
    group by level, candidate_type
),
final as (
    select * from per_type
    order by level = '中级', level, candidate_type = '社会考生', candidate_type
)
select * from final
