-- name: audit_log
-- purpose: the audit log, newest first, filtered by action, actor and a start date (admin page): the lake's
--   audit rows (every write to the exam data and accounts, in the write's own transaction) and the
--   application database's request events (logins, logouts, lookups, downloads, refusals) as one log
-- grain: one row per audited event, at most 5000
-- params: $since, $action?, $actor?
-- key: source, event_no
-- access: admin
with data_writes as (
    select '数据' as source, audit_id as event_no, event_at, actor, action, target, detail
    from audit_log
    where event_at >= cast($since as date)
),
requests as (
    select '请求' as source, event_id as event_no, event_at, actor, action, target, detail
    from request_events
    where event_at >= cast($since as date)
),
events as (
    select * from data_writes
    union all
    select * from requests
),
filtered as (
    select *
    from events
    where ($action is null or action = $action)
      and ($actor is null or actor = $actor)
),
final as (
    select source, event_no, event_at, actor, action, target, detail
    from filtered
    order by event_at desc, source, event_no desc
    limit 5000
)
select * from final
