-- name: audit_log
-- purpose: the audit log, newest first, filtered by action, actor and a start date (admin page)
-- grain: one row per audited event, at most 5000
-- params: $since, $action?, $actor?
-- key: audit_id
-- access: admin
with events as (
    select * from audit_log where event_at >= cast($since as date)
),
filtered as (
    select *
    from events
    where ($action is null or action = $action)
      and ($actor is null or actor = $actor)
),
final as (
    select audit_id, event_at, actor, action, target, detail
    from filtered
    order by event_at desc, audit_id desc
    limit 5000
)
select * from final
