-- name: room_plan
-- purpose: the room arrangement of a batch at one exam site: every seated candidate with level, sitting, room and seat; names and IDs unmasked (the caller masks IDs on the materials)
-- grain: one row per seat taken (level, sitting, room, seat), ordered by level time, sitting, room and seat
-- params: $batch, $site?
-- key: level, sitting, room, seat
with seated as (
    select *
    from room_seats
    where batch_code = $batch
      and site_code = coalesce($scope_site, $site)
),
regs as (
    select ticket_no, name, id_no, school_code, candidate_type
    from registrations
    where batch_code = $batch
      and status = '正常'
),
school_rows as (
    select school_code, school_name from schools
),
final as (
    select
        s.level,
        s.sitting,
        s.room,
        s.seat,
        s.ticket_no,
        r.name,
        r.id_no,
        r.school_code,
        coalesce(sc.school_name, r.school_code) as school_name,
        r.candidate_type
    from seated s
    left join regs r using (ticket_no)
    left join school_rows sc on sc.school_code = r.school_code
    order by s.level = '初级', s.sitting, s.room, s.seat
)
select * from final
