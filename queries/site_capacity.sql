-- name: site_capacity
-- purpose: seats against registrations per site; 初级 and 中级 sit at different times on exam day, so a site needs seats for the larger of its two levels
-- grain: one row per site with seats or registrations in the batch; province is the site's
-- params: $batch, $level?, $province?, $site?
-- key: site_code
-- Capacity is a property of the site, so every valid registration at it counts whatever the
-- candidate's school or type; $province here picks sites in that province.
with results_in as (
    select site_code, level
    from results
    where batch_code = $batch
        and ($level is null or level = $level)
),
site_rows as (
    select site_code, site_name, province, city, seats
    from sites
    where ($province is null or province = $province)
        and ($site is null or site_code = $site)
),
per_site as (
    select
        site_code,
        count_if(level = '初级')::bigint as registered_junior,
        count_if(level = '中级')::bigint as registered_middle,
        count(*)::bigint as registered_total
    from results_in
    group by site_code
),
joined as (
    select
        s.site_code,
        s.site_name,
        s.province,
        s.city,
        s.seats,
        coalesce(p.registered_junior, 0)::bigint as registered_junior,
        coalesce(p.registered_middle, 0)::bigint as registered_middle,
        coalesce(p.registered_total, 0)::bigint as registered_total
    from site_rows s
    left join per_site p using (site_code)
),
final as (
    select
        *,
        greatest(registered_junior, registered_middle)::bigint as peak,
        greatest(registered_junior, registered_middle) > coalesce(seats, 0) as over_capacity,
        greatest(greatest(registered_junior, registered_middle) - coalesce(seats, 0), 0)::bigint as over_by,
        case when seats > 0 then greatest(registered_junior, registered_middle) / seats end as utilisation
    from joined
    order by over_capacity desc, utilisation desc nulls first, site_code
)
select * from final
