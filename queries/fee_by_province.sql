-- name: fee_by_province
-- purpose: fees per province of the paying school: charged, paid, balance, owed and credit, 多退少补
-- grain: one row per province with charges or matched payments
-- params: $batch?, $province?
-- key: province
with school_batches as (
    select *
    from fee_school_batches
    where ($batch is null or batch_code = $batch)
      and ($scope_school is null or school_code = $scope_school)
),
school_rows as (
    select school_code, province from schools
),
per_school as (
    select
        b.school_code,
        coalesce(s.province, '（未知省份）') as province,
        sum(b.registrations)::bigint as registrations,
        sum(b.charged_fen)::bigint as charged_fen,
        sum(b.paid_fen)::bigint as paid_fen,
        sum(b.settlement_fen)::bigint as settlement_fen
    from school_batches b
    left join school_rows s using (school_code)
    where ($province is null or s.province = $province)
    group by all
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
