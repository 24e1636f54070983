-- name: audit_actions
-- purpose: the distinct kinds of audited action, for the audit page's filter
-- grain: one row per action
-- params: none
-- key: action
-- access: admin
with actions as (
    select distinct action from audit_log
),
final as (
    select action from actions order by action
)
select * from final
