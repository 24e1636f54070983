-- name: registrations_by_school
-- purpose: valid registrations per school and level, split by candidate type
-- grain: one row per school and level with registrations; province is the school's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: school_code, level
with results_in as (
    select school_code, level, candidate_type
    from filtered_results($batch, $scope_school, $level, $province, $site, $school, $candidate_type)
),
school_rows as (
    select school_code, school_name, province, school_type, is_pilot from schools
),
per_school as (
    select
        school_code,
        level,
        count(*)::bigint as registered,
        count_if(candidate_type = '在校生')::bigint as students,
        count_if(candidate_type = '社会考生')::bigint as social
    from results_in
    group by school_code, level
),
final as (
    select
        p.school_code,
        coalesce(s.school_name, p.school_code) as school_name,
        s.province,
        p.level,
        p.registered,
        p.students,
        p.social,
        s.school_type,
        s.is_pilot
    from per_school p
    left join school_rows s using (school_code)
    order by p.school_code, p.level = '中级'
)
select * from final
