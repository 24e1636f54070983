-- name: review_events
-- purpose: every status change of the batch's review items: who, when, from which status to which, and the note
-- grain: one row per status change of a review item, newest first
-- params: $batch
-- key: event_no
with requests as (
    select request_id, school_code
    from review_requests
    where batch_code = $batch
      and ($scope_school is null or school_code = $scope_school)
),
items as (
    select i.item_id, i.ticket_no, r.request_id, r.school_code
    from review_items i
    join requests r using (request_id)
),
events as (
    -- rowid keeps insertion order among changes recorded in the same second
    select rowid as seq, * from review_item_events
),
final as (
    select e.seq as event_no, e.event_at, e.actor, i.request_id, e.item_id, i.school_code, i.ticket_no, e.from_status, e.to_status, e.note
    from events e
    join items i using (item_id)
    order by e.event_at desc, e.seq desc
)
select * from final
