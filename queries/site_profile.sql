-- name: site_profile
-- purpose: one exam site's own details (name, place, host school, seats) for its home page
-- grain: one row: the signed-in 考点 account's site, or $site for staff
-- params: $site?
-- key: one row
with site_rows as (
    select site_code, site_name, province, city, school_code, seats
    from sites
    where site_code = coalesce($scope_site, $site)
),
final as (
    select s.site_code, s.site_name, s.province, s.city, s.school_code as host_school_code,
           h.school_name as host_school_name, s.seats
    from site_rows s
    left join schools h using (school_code)
)
select * from final
