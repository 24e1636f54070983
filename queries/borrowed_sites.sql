-- name: borrowed_sites
-- purpose: 借考: candidates sitting at a site that belongs to another school (or to none), counted per school and site
-- grain: one row per registering school and site where it borrows; provinces are the school's and the site's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: school_code, site_code
with results_in as (
    select school_code, site_code, level
    from filtered_results($batch, $scope_school, $level, $province, $site, $school, $candidate_type)
),
site_rows as (
    select site_code, site_name, province, school_code as host_school_code from sites
),
school_rows as (
    select school_code, school_name, province, is_pilot from schools
),
borrowing as (
    select r.school_code, r.site_code, r.level, s.host_school_code
    from results_in r
    left join site_rows s using (site_code)
    where s.host_school_code is distinct from r.school_code
),
per_pair as (
    select
        school_code,
        site_code,
        any_value(host_school_code) as host_school_code,
        count(*)::bigint as candidates,
        count_if(level = '初级')::bigint as junior,
        count_if(level = '中级')::bigint as middle
    from borrowing
    group by school_code, site_code
),
final as (
    select
        p.school_code,
        coalesce(sc.school_name, p.school_code) as school_name,
        sc.province as school_province,
        sc.is_pilot,
        p.site_code,
        coalesce(st.site_name, p.site_code) as site_name,
        st.province as site_province,
        p.host_school_code,
        host.school_name as host_school_name,
        p.candidates,
        p.junior,
        p.middle
    from per_pair p
    left join school_rows sc on sc.school_code = p.school_code
    left join site_rows st on st.site_code = p.site_code
    left join school_rows host on host.school_code = p.host_school_code
    order by p.candidates desc, p.school_code, p.site_code
)
select * from final
