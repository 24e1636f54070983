-- name: review_queue
-- purpose: the score-review items of a batch: school, candidate, reason, status, filing and decision, current score
-- grain: one row per review item (a school's request lists one or more candidates); open items first
-- params: $batch
-- key: item_id
with requests as (
    select *
    from review_requests
    where batch_code = $batch
      and ($scope_school is null or school_code = $scope_school)
),
items as (
    select * from review_items
),
filings as (
    select item_id, min(event_at) as filed_at, arg_min(actor, event_at) as filed_by
    from review_item_events
    where from_status is null
    group by item_id
),
school_names as (
    select school_code, school_name from schools
),
candidates as (
    select ticket_no, name, level, attendance_status, score_version, theory, practical, total, passed
    from results
    where batch_code = $batch
      and ($scope_school is null or school_code = $scope_school)
),
joined as (
    select
        r.request_id,
        r.school_code,
        s.school_name,
        i.ticket_no,
        i.reason_type as reason,
        i.status,
        coalesce(f.filed_at, r.filed_at) as filed_at,
        i.item_id,
        i.reason_text,
        coalesce(f.filed_by, r.filed_by) as filed_by,
        r.source,
        i.status in (select status from review_statuses where is_open) as is_open,
        i.decided_by,
        i.decided_at,
        i.decision_note,
        i.new_version,
        c.name,
        c.level,
        c.attendance_status,
        c.score_version,
        c.theory,
        c.practical,
        c.total,
        c.passed
    from items i
    join requests r using (request_id)
    left join filings f using (item_id)
    left join school_names s using (school_code)
    left join candidates c using (ticket_no)
),
final as (
    select *
    from joined
    order by is_open desc, filed_at, item_id
)
select * from final
