-- name: site_results_by_school
-- purpose: attendance and results of the candidates who sat the batch at one exam site, as figures per school (borrowed schools included) and level
-- grain: one row per school and level with candidates at the site
-- params: $batch, $site?
-- key: school_code, level
with at_site as (
    select *
    from results
    where batch_code = $batch
      and site_code = coalesce($scope_site, $site)
),
per_school as (
    select
        school_code,
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(not sat and (attendance_status is not null or score_version is not null))::bigint as absent,
        count_if(attendance_status = '违纪')::bigint as violations,
        count_if(passed is true)::bigint as passed
    from at_site
    group by school_code, level
),
final as (
    select
        p.school_code,
        coalesce(s.school_name, p.school_code) as school_name,
        p.level,
        p.registered,
        p.sat,
        p.absent,
        p.violations,
        p.passed,
        case when p.sat > 0 then p.passed / p.sat end as pass_rate
    from per_school p
    left join schools s using (school_code)
    order by p.school_code, p.level = '中级'
)
select * from final
