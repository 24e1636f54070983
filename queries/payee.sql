-- name: payee
-- purpose: who the schools pay the fees to (汇款账户信息 of the exam plan) and the remark rule, for the fee pages and statements
-- grain: one row (the plan's [payee])
-- params: none
-- key: one row
-- access: all
with payee_row as (
    select * from payee
),
final as (
    select company, taxpayer_id, address, phone, bank, account, remark
    from payee_row
)
select * from final
