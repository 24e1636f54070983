-- name: fee_unmatched
-- purpose: the queue of bank payments no school has been matched or assigned to (unmatched or ambiguous), waiting for staff; they change no balance
-- grain: one row per bank line (银行流水号)
-- params: none
-- key: bank_ref
with queued as (
    select *
    from fee_payments
    where school_code is null
      and ($scope_school is null or school_code = $scope_school)
),
final as (
    select
        bank_ref, paid_date, payer, amount_fen, (amount_fen * 0.01)::decimal(18, 2) as amount, remark,
        match_method, match_note, school_code, assigned_by, assigned_at
    from queued
    order by paid_date, bank_ref
)
select * from final
