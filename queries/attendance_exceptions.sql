-- name: attendance_exceptions
-- purpose: the absent (缺考) and irregular (违纪) candidates under the sidebar filters, with their room and seat; names and IDs unmasked (the caller masks)
-- grain: one row per valid registration (batch, id_no, level) that is absent or irregular, ordered by site, level and ticket
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?, $status?
-- key: batch_code, id_no, level
-- Absent: the sign-in sheet says 缺考, or there is no sign-in row and the score sheet says 缺考 (as the
-- verdict reads it: a score row but not sat). Irregular: the sign-in sheet says 违纪. $status picks one of the two (null = both).
with results_in as (
    select *
    from filtered_results($batch, $scope_school, $level, $province, $site, $school, $candidate_type)
),
flagged as (
    select
        *,
        case
            when attendance_status = '违纪' then '违纪'
            when attendance_status = '缺考' then '缺考'
            when attendance_status is null and score_version is not null and not sat then '缺考'
        end as exception,
        case when attendance_status is null then '成绩表' else '签到表' end as recorded_in
    from results_in
),
picked as (
    select * from flagged
    where exception is not null
      and ($status is null or exception = $status)
),
rooms as (
    select ticket_no, room, seat from attendance where batch_code = $batch
),
school_rows as (
    select school_code, school_name from schools
),
site_rows as (
    select site_code, site_name from sites
),
final as (
    select
        p.batch_code,
        p.ticket_no,
        p.name,
        p.id_no,
        p.level,
        p.school_code,
        coalesce(sc.school_name, p.school_code) as school_name,
        p.site_code,
        coalesce(st.site_name, p.site_code) as site_name,
        p.candidate_type,
        p.exception,
        p.recorded_in,
        r.room,
        r.seat
    from picked p
    left join rooms r on r.ticket_no = p.ticket_no
    left join school_rows sc on sc.school_code = p.school_code
    left join site_rows st on st.site_code = p.site_code
    order by p.site_code, p.level = '中级', p.ticket_no nulls last, p.id_no
)
select * from final
