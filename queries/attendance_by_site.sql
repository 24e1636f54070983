-- name: attendance_by_site
-- purpose: attendance per exam site: registered, present (signed in, 违纪 included), absent (缺考), not yet recorded, and the rates
-- grain: one row per site with registrations; province is the site's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: site_code
-- Rates are over candidates with a sign-in record or a score, so a site whose sheet has not been
-- imported yet shows no rate instead of 100% absence.
with results_in as (
    select site_code, sat, attendance_status, score_version
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
),
site_rows as (
    select site_code, site_name, province, city from sites
),
per_site as (
    select
        site_code,
        count(*)::bigint as registered,
        count_if(sat)::bigint as present,
        count_if(not sat and (attendance_status is not null or score_version is not null))::bigint as absent,
        count_if(attendance_status is not distinct from '违纪')::bigint as violations,
        count_if(attendance_status is null and score_version is null)::bigint as unrecorded
    from results_in
    group by site_code
),
final as (
    select
        p.site_code,
        coalesce(s.site_name, p.site_code) as site_name,
        p.registered,
        p.present,
        p.absent,
        p.violations,
        p.unrecorded,
        case when p.present + p.absent > 0 then p.present / (p.present + p.absent) end as attendance_rate,
        case when p.present + p.absent > 0 then p.absent / (p.present + p.absent) end as absence_rate,
        s.province,
        s.city
    from per_site p
    left join site_rows s using (site_code)
    order by p.site_code
)
select * from final
