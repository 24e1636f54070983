-- name: fee_balances
-- purpose: per school what it was charged and has paid, and its balance (paid - charged; negative = owes, positive = in credit), in yuan and in exact fen
-- grain: one row per school with charges or matched payments; with $batch, that batch's charges and the payments allocated to it (oldest exam first, see fee_school_batches)
-- params: $batch?, $province?, $school?
-- key: school_code
with located as (
    select *
    from fee_per_school($batch, $scope_school)
    where ($province is null or province = $province)
      and ($school is null or school_code = $school)
),
final as (
    select
        school_code,
        school_name,
        province,
        (charged_fen * 0.01)::decimal(18, 2) as charged,
        (paid_fen * 0.01)::decimal(18, 2) as paid,
        ((paid_fen - charged_fen) * 0.01)::decimal(18, 2) as balance,
        registrations,
        charged_fen,
        paid_fen,
        (paid_fen - charged_fen)::bigint as balance_fen,
        settlement_fen,
        payments,
        case
            when paid_fen < charged_fen then '欠费'
            when paid_fen > charged_fen then '有结余'
            else '已结清'
        end as status
    from located
    order by balance_fen, province, school_code
)
select * from final
