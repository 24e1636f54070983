-- name: unusual_absence
-- purpose: sites whose absence rate is unusually high against the national rate of the batch
-- grain: one row per flagged site; province is the site's
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: site_code
-- Rule: at least 10 candidates with a record, absence rate at least twice the national rate, and
-- above national + 2 binomial standard deviations sqrt(p(1-p)/n), so a small site is not flagged
-- for one or two absentees nor a large one for a rate barely above the mean. "National" is every
-- site of the batch for the chosen level and candidate type; the place filters pick which sites
-- (and whose candidates) are compared with it.
with batch_rows as (
    select site_code, province, school_code, sat, attendance_status, score_version
    from results
    where batch_code = $batch
        and ($level is null or level = $level)
        and ($candidate_type is null or candidate_type = $candidate_type)
        and (attendance_status is not null or score_version is not null)
),
national as (
    select
        count(*)::bigint as recorded,
        count_if(not sat)::bigint as absent,
        case when count(*) > 0 then count_if(not sat) / count(*) end as rate
    from batch_rows
),
chosen as (
    select site_code, sat
    from batch_rows
    where ($province is null or province = $province)
        and ($site is null or site_code = $site)
        and ($school is null or school_code = $school)
),
per_site as (
    select
        site_code,
        count(*)::bigint as recorded,
        count_if(not sat)::bigint as absent,
        count_if(not sat) / count(*) as absence_rate
    from chosen
    group by site_code
),
site_rows as (
    select site_code, site_name, province from sites
),
judged as (
    select
        p.*,
        n.rate as national_rate,
        n.rate + 2 * sqrt(n.rate * (1 - n.rate) / p.recorded) as threshold
    from per_site p
    cross join national n
),
final as (
    select
        j.site_code,
        coalesce(s.site_name, j.site_code) as site_name,
        s.province,
        j.recorded,
        j.absent,
        j.absence_rate,
        j.national_rate,
        greatest(j.threshold, 2 * j.national_rate) as threshold,
        j.absence_rate / nullif(j.national_rate, 0) as times_national
    from judged j
    left join site_rows s using (site_code)
    where j.recorded >= 10
        and j.absence_rate >= 2 * j.national_rate
        and j.absence_rate > j.threshold
    order by j.absence_rate desc, j.site_code
)
select * from final
