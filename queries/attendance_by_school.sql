-- name: attendance_by_school
-- purpose: attendance per school: registered, present (signed in, 违纪 included), absent (缺考), not yet recorded, and the rates
-- grain: one row per school with registrations; province is the school's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: school_code
with results_in as (
    select school_code, sat, attendance_status, score_version
    from filtered_results($batch, $scope_school, $level, $province, $site, $school, $candidate_type)
),
school_rows as (
    select school_code, school_name, province from schools
),
per_school as (
    select
        school_code,
        count(*)::bigint as registered,
        count_if(sat)::bigint as present,
        count_if(not sat and (attendance_status is not null or score_version is not null))::bigint as absent,
        count_if(attendance_status is not distinct from '违纪')::bigint as violations,
        count_if(attendance_status is null and score_version is null)::bigint as unrecorded
    from results_in
    group by school_code
),
final as (
    select
        p.school_code,
        coalesce(s.school_name, p.school_code) as school_name,
        p.registered,
        p.present,
        p.absent,
        p.violations,
        p.unrecorded,
        case when p.present + p.absent > 0 then p.present / (p.present + p.absent) end as attendance_rate,
        case when p.present + p.absent > 0 then p.absent / (p.present + p.absent) end as absence_rate,
        s.province
    from per_school p
    left join school_rows s using (school_code)
    order by p.school_code
)
select * from final
