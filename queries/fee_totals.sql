-- name: fee_totals
-- purpose: fee headline figures: charged, paid (matched, allocated to the batch when one is given), balance, what schools owe and hold in credit, 多退少补 totals
-- grain: one row
-- params: $batch?, $province?, $school?
-- key: one row
with per_school as (
    select *
    from fee_per_school($batch, $scope_school)
    where ($province is null or province = $province)
      and ($school is null or school_code = $school)
),
final as (
    select
        count(*)::bigint as schools,
        coalesce(sum(registrations), 0)::bigint as registrations,
        coalesce(sum(charged_fen), 0)::bigint as charged_fen,
        coalesce(sum(paid_fen), 0)::bigint as paid_fen,
        coalesce(sum(paid_fen - charged_fen), 0)::bigint as balance_fen,
        coalesce(sum(case when paid_fen < charged_fen then charged_fen - paid_fen else 0 end), 0)::bigint as owed_fen,
        coalesce(sum(case when paid_fen > charged_fen then paid_fen - charged_fen else 0 end), 0)::bigint as credit_fen,
        count(*) filter (where paid_fen < charged_fen)::bigint as schools_owing,
        count(*) filter (where paid_fen > charged_fen)::bigint as schools_in_credit,
        coalesce(sum(case when settlement_fen < 0 then -settlement_fen else 0 end), 0)::bigint as settlement_refund_fen,
        coalesce(sum(case when settlement_fen > 0 then settlement_fen else 0 end), 0)::bigint as settlement_topup_fen,
        count(*) filter (where settlement_fen <> 0)::bigint as schools_settling
    from per_school
)
select * from final
