-- name: room_plan_state
-- purpose: where one exam site's room arrangement of a batch stands: seats, room size, draft or locked and by whom, and the registrations not seated (no ticket number, or arranged before they came)
-- grain: one row: the site
-- params: $batch, $site?
-- key: one row
with site_row as (
    select site_code, site_name, seats
    from sites
    where site_code = coalesce($scope_site, $site)
),
plan as (
    select * from room_plans where batch_code = $batch and site_code in (select site_code from site_row)
),
regs as (
    select ticket_no, level
    from registrations
    where batch_code = $batch
      and status = '正常'
      and site_code in (select site_code from site_row)
),
seated as (
    select ticket_no from room_seats where batch_code = $batch and site_code in (select site_code from site_row)
),
final as (
    select
        s.site_code,
        s.site_name,
        s.seats,
        p.room_seats,
        p.status,
        p.updated_by,
        p.updated_at,
        p.locked_by,
        p.locked_at,
        (select count(*) from regs)::bigint as registered,
        (select count(*) from regs where ticket_no is null or ticket_no = ''
            or ticket_no not in (select ticket_no from seated))::bigint as unseated
    from site_row s
    left join plan p on true
)
select * from final
