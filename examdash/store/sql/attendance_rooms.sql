-- name: attendance_rooms
-- purpose: give the sign-ins of one import that came without 考场 or 座号 the room and seat of the site's room arrangement (编排考场)
-- grain: updates attendance rows of the import
-- params: $import_id
update attendance
set room = coalesce(attendance.room, s.room),
    seat = coalesce(attendance.seat, s.seat)
from room_seats s
where attendance.import_id = $import_id
  and s.batch_code = attendance.batch_code
  and s.ticket_no = attendance.ticket_no
  and (attendance.room is null or attendance.seat is null)
