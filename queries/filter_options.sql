-- name: filter_options
-- purpose: the choices of the shared sidebar filters: every site and school with its province
-- grain: one row per school, or per site (kind says which)
-- params: none
-- key: kind, code
with site_rows as (
    select 'site' as kind, site_code as code, site_name as name, province from sites
),
school_rows as (
    select 'school' as kind, school_code as code, school_name as name, province from schools
),
final as (
    select * from site_rows
    union all
    select * from school_rows
    order by kind, province, code
)
select * from final
