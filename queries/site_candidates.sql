-- name: site_candidates
-- purpose: the candidates who sit the batch at one exam site, its own school's, borrowed (借考) and social ones, with room, seat and attendance; names and IDs unmasked (the caller masks); scores only for the candidates registered under the site's own school
-- grain: one row per valid registration (batch, id_no, level) at the site, ordered by level and ticket
-- params: $batch, $site?
-- key: batch_code, id_no, level
-- A 考点 account sees what sits at its site and nothing of its schools' candidates who sit elsewhere.
-- A candidate is the site's own when registered under the site's school (院校代码): social candidates
-- registered without a school are put under their site's school at import, so they count as its own.
-- Every other candidate -- of another school, whatever the candidate type says -- shows as figures only
-- (site_results_by_school); their scores stay with their school.
with site_row as (
    select site_code, school_code as host_school_code
    from sites
    where site_code = coalesce($scope_site, $site)
),
at_site as (
    select r.*, s.host_school_code, coalesce(r.school_code = s.host_school_code, false) as own
    from results r
    join site_row s using (site_code)
    where r.batch_code = $batch
),
rooms as (
    select ticket_no, room, seat from attendance where batch_code = $batch
),
school_rows as (
    select school_code, school_name from schools
),
final as (
    select
        a.batch_code,
        a.ticket_no,
        a.name,
        a.id_no,
        a.level,
        a.school_code,
        coalesce(sc.school_name, a.school_code) as school_name,
        a.candidate_type,
        case when not a.own then '借考'
             when a.candidate_type = '社会考生' then '社会考生'
             else '本校' end as origin,
        r.room,
        r.seat,
        a.attendance_status,
        a.own,
        case when a.own then a.theory::double end as theory,
        case when a.own then a.practical::double end as practical,
        case when a.own then a.total::double end as total,
        case when a.own then a.passed end as passed
    from at_site a
    left join rooms r on r.ticket_no = a.ticket_no
    left join school_rows sc on sc.school_code = a.school_code
    order by a.level = '中级', a.ticket_no nulls last, a.id_no
)
select * from final
