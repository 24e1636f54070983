-- name: fee_by_province
-- purpose: fees per province of the paying school: charged, paid, balance, owed and credit, 多退少补
-- grain: one row per province with charges or matched payments
-- params: $batch?, $province?
-- key: province
with per_school as (
    select * replace (coalesce(province, '（未知省份）') as province)
    from fee_per_school($batch, $scope_school)
    where ($province is null or province = $province)
),
per_province as (
    select
        province,
        count(*)::bigint as schools,
        sum(registrations)::bigint as registrations,
        sum(charged_fen)::bigint as charged_fen,
        sum(paid_fen)::bigint as paid_fen,
        sum(case when paid_fen < charged_fen then charged_fen - paid_fen else 0 end)::bigint as owed_fen,
        sum(case when paid_fen > charged_fen then paid_fen - charged_fen else 0 end)::bigint as credit_fen,
        count_if(paid_fen < charged_fen)::bigint as schools_owing,
        sum(settlement_fen)::bigint as settlement_fen
    from per_school
    group by all
),
final as (
    select
        province,
        schools,
        registrations,
        (charged_fen * 0.01)::decimal(18, 2) as charged,
        (paid_fen * 0.01)::decimal(18, 2) as paid,
        ((paid_fen - charged_fen) * 0.01)::decimal(18, 2) as balance,
        charged_fen,
        paid_fen,
        (paid_fen - charged_fen)::bigint as balance_fen,
        owed_fen,
        credit_fen,
        schools_owing,
        settlement_fen
    from per_province
    order by balance_fen, province
)
select * from final
