-- name: audit_actions
-- purpose: the distinct kinds of audited action (data writes and request events), for the audit page's filter
-- grain: one row per action
-- params: none
-- key: action
-- access: admin
with actions as (
    select action from audit_log
    union
    select action from request_events
),
final as (
    select action from actions order by action
)
select * from final
