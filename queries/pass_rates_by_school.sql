-- name: pass_rates_by_school
-- purpose: pass rate per school and level with its denominators and the pass rule in force
-- grain: one row per school and level with registrations; province is the school's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: school_code, level
with results_in as (
    select school_code, level, sat, passed
    from filtered_results($batch, $scope_school, $level, $province, $site, $school, $candidate_type)
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
school_rows as (
    select school_code, school_name, province from schools
),
per_school as (
    select
        school_code,
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(passed is true)::bigint as passed
    from results_in
    group by school_code, level
),
final as (
    select
        p.school_code,
        coalesce(s.school_name, p.school_code) as school_name,
        p.level,
        p.registered,
        p.sat,
        p.passed,
        case when p.sat > 0 then p.passed / p.sat end as pass_rate,
        coalesce(r.rule, 'both_parts') as pass_rule,
        s.province
    from per_school p
    left join school_rows s using (school_code)
    left join rules r using (level)
    order by p.school_code, p.level = '中级'
)
select * from final
