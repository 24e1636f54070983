-- name: fee_settlement
-- purpose: 多退少补: schools charged the provisional price in a province that published its standard after the exam, in the same year; what each is refunded (negative) or must top up (positive), beside what it has paid
-- grain: one row per school with at least one settled line
-- params: $batch?, $province?, $school?
-- key: school_code
with lines as (
    select *
    from fee_priced_lines
    where basis = 'settled'
      and ($batch is null or batch_code = $batch)
      and ($province is null or province = $province)
      and ($school is null or school_code = $school)
      and ($scope_school is null or school_code = $scope_school)
),
school_batches as (
    select school_code, sum(charged_fen)::bigint as charged_fen, sum(paid_fen)::bigint as paid_fen
    from fee_school_batches
    where ($batch is null or batch_code = $batch)
      and ($scope_school is null or school_code = $scope_school)
    group by all
),
per_school as (
    select
        school_code,
        any_value(school_name) as school_name,
        any_value(province) as province,
        string_agg(distinct doc_no, '、' order by doc_no) as doc_no,
        min(standard_effective_date) as standard_effective_date,
        sum(registrations)::bigint as registrations,
        sum(provisional_amount_fen)::bigint as provisional_fen,
        sum(amount_fen)::bigint as final_fen,
        sum(settlement_fen)::bigint as settlement_fen
    from lines
    group by all
),
final as (
    select
        p.school_code,
        p.school_name,
        p.province,
        p.doc_no,
        p.standard_effective_date,
        p.registrations,
        p.provisional_fen,
        p.final_fen,
        p.settlement_fen,
        case when p.settlement_fen < 0 then '应退' when p.settlement_fen > 0 then '应补' else '无差额' end as action,
        ((case when p.settlement_fen < 0 then -p.settlement_fen else p.settlement_fen end) * 0.01)::decimal(18, 2)
            as settlement,
        coalesce(b.paid_fen, 0)::bigint as paid_fen,
        (coalesce(b.paid_fen, 0) - coalesce(b.charged_fen, 0))::bigint as balance_fen
    from per_school p
    left join school_batches b using (school_code)
    order by p.province, p.school_code
)
select * from final
