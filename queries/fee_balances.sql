-- name: fee_balances
-- purpose: per school what it was charged and has paid, and its balance (paid - charged; negative = owes, positive = in credit), in yuan and in exact fen
-- grain: one row per school with charges or matched payments; with $batch, that batch's charges and the payments allocated to it (oldest exam first, see examdash/fees.py)
-- params: $batch?, $province?, $school?
-- key: school_code
with school_batches as (
    select *
    from fee_school_batches
    where ($batch is null or batch_code = $batch)
      and ($scope_school is null or school_code = $scope_school)
),
school_rows as (
    select school_code, school_name, province from schools
),
per_school as (
    select
        school_code,
        sum(registrations)::bigint as registrations,
        sum(charged_fen)::bigint as charged_fen,
        sum(paid_fen)::bigint as paid_fen,
        sum(settlement_fen)::bigint as settlement_fen,
        max(school_payments)::bigint as payments
    from school_batches
    group by all
),
located as (
    select p.*, coalesce(s.school_name, p.school_code) as school_name, s.province
    from per_school p
    left join school_rows s using (school_code)
    where ($province is null or s.province = $province)
      and ($school is null or p.school_code = $school)
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
