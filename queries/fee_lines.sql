-- name: fee_lines
-- purpose: what each school is charged per batch and level: charged registrations, unit price and its source (省级标准文号 or 暂行标准), amount, the provisional amount and the 多退少补 difference
-- grain: one row per batch, paying school and level
-- params: $batch?, $province?, $school?
-- key: batch_code, school_code, level
with lines as (
    select *
    from fee_priced_lines
    where ($batch is null or batch_code = $batch)
      and ($province is null or province = $province)
      and ($school is null or school_code = $school)
      and ($scope_school is null or school_code = $scope_school)
),
final as (
    select
        batch_code, batch_name, exam_date, school_code, school_name, province, level, registrations,
        basis, price_basis, price_source, doc_no, standard_effective_date,
        unit_fen, provisional_unit_fen, amount_fen, provisional_amount_fen, settlement_fen
    from lines
    order by exam_date, batch_code, school_code, level = '中级'
)
select * from final
