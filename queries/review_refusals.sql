-- name: review_refusals
-- purpose: refused review actions of a batch (late or misdirected requests, second decisions, early sign-offs) with the reason; refusals are request events of the application database
-- grain: one row per refused action, newest first
-- params: $batch
-- key: event_no
with refused as (
    select
        event_id as event_no,
        event_at,
        actor,
        target,
        json_extract_string(detail, '$.action') as action,
        json_extract_string(detail, '$.batch') as batch_code,
        json_extract_string(detail, '$.school_code') as school_code,
        json_extract_string(detail, '$.reason') as reason
    from request_events
    where action = 'review_refused'
),
final as (
    select event_no, event_at, actor, action, school_code, target, reason
    from refused
    where (batch_code = $batch or batch_code is null)
      and ($scope_school is null or school_code = $scope_school)
    order by event_at desc
)
select * from final
