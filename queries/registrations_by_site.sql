-- name: registrations_by_site
-- purpose: valid registrations per exam site and level (cancellations excluded), with the site's seats
-- grain: one row per site and level with registrations; province and city are the site's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: site_code, level
-- The $province filter, like every shared filter, picks candidates by their school's province.
with results_in as (
    select site_code, level
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
),
site_rows as (
    select site_code, site_name, province, city, seats from sites
),
per_site as (
    select site_code, level, count(*)::bigint as registered
    from results_in
    group by site_code, level
),
final as (
    select
        p.site_code,
        coalesce(s.site_name, p.site_code) as site_name,
        s.province,
        p.level,
        p.registered,
        s.city,
        s.seats
    from per_site p
    left join site_rows s using (site_code)
    order by p.site_code, p.level = '中级'
)
select * from final
