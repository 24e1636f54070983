-- name: pass_rates_by_site
-- purpose: pass rate per exam site and level with its denominators and the pass rule in force
-- grain: one row per site and level with registrations; province is the site's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: site_code, level
with results_in as (
    select site_code, level, sat, passed
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
),
rules as (
    select level, rule from pass_rules where batch_code = $batch
),
site_rows as (
    select site_code, site_name, province from sites
),
per_site as (
    select
        site_code,
        level,
        count(*)::bigint as registered,
        count_if(sat)::bigint as sat,
        count_if(passed is true)::bigint as passed
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
        p.sat,
        p.passed,
        case when p.sat > 0 then p.passed / p.sat end as pass_rate,
        coalesce(r.rule, 'both_parts') as pass_rule
    from per_site p
    left join site_rows s using (site_code)
    left join rules r using (level)
    order by p.site_code, p.level = '中级'
)
select * from final
