-- name: fee_payment_totals
-- purpose: every bank payment counted once by 银行流水号, split into matched (counted in balances) and waiting in the queue, to show the totals reconcile
-- grain: one row
-- params: none
-- key: one row
with lines as (
    select *
    from fee_payments
    where ($scope_school is null or school_code = $scope_school)
),
final as (
    select
        count(*)::bigint as payments,
        coalesce(sum(amount_fen), 0)::bigint as all_fen,
        count(*) filter (where school_code is not null)::bigint as matched,
        coalesce(sum(amount_fen) filter (where school_code is not null), 0)::bigint as matched_fen,
        count(*) filter (where school_code is null)::bigint as unmatched,
        coalesce(sum(amount_fen) filter (where school_code is null), 0)::bigint as unmatched_fen,
        count(*) filter (where school_code is not null and assigned_by is null and match_confidence < 0.8)::bigint as to_check
    from lines
)
select * from final
