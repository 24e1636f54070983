-- name: site_candidates
-- purpose: the candidates who sit the batch at one exam site, its own school's, borrowed (借考) and social ones, with room, seat and attendance; names and IDs unmasked (the caller masks); scores only for the site's own school and its social candidates
-- grain: one row per valid registration (batch, id_no, level) at the site, ordered by level and ticket
-- params: $batch, $site?
-- key: batch_code, id_no, level
-- A 考点 account sees what sits at its site and nothing of its schools' candidates who sit elsewhere.
-- Social candidates are registered and paid for by the site's school, so their scores are the site's too;
-- other schools' candidates show as figures (site_results_by_school), their scores stay with their school.
with site_row as (
    select site_code, school_code as host_school_code
    from sites
    where site_code = coalesce($scope_site, $site)
),
at_site as (
    select r.*, s.host_school_code
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
        case when a.candidate_type = '社会考生' then '社会考生'
             when a.school_code = a.host_school_code then '本校'
             else '借考' end as origin,
        r.room,
        r.seat,
        a.attendance_status,
        coalesce(a.school_code = a.host_school_code, false) or a.candidate_type = '社会考生' as own,
        case when coalesce(a.school_code = a.host_school_code, false) or a.candidate_type = '社会考生' then a.theory::double end as theory,
        case when coalesce(a.school_code = a.host_school_code, false) or a.candidate_type = '社会考生' then a.practical::double end as practical,
        case when coalesce(a.school_code = a.host_school_code, false) or a.candidate_type = '社会考生' then a.total::double end as total,
        case when coalesce(a.school_code = a.host_school_code, false) or a.candidate_type = '社会考生' then a.passed end as passed
    from at_site a
    left join rooms r on r.ticket_no = a.ticket_no
    left join school_rows sc on sc.school_code = a.school_code
    order by a.level = '中级', a.ticket_no nulls last, a.id_no
)
select * from final
