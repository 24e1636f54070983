-- name: fee_prices
-- purpose: the price of one registration per batch, province and level, with its source (the province's standard and 文号, or the provisional price)
-- grain: one row per batch, province and level
-- params: $batch?, $province?
-- key: batch_code, province, level
-- access: all
with prices as (
    select *
    from fee_prices
    where ($batch is null or batch_code = $batch)
      and ($province is null or province = $province)
),
final as (
    select
        batch_code, batch_name, exam_date, province, level, basis, price_basis, price_source, doc_no,
        standard_effective_date, unit_fen, provisional_unit_fen,
        case when basis = 'settled' then unit_fen - provisional_unit_fen else 0 end::bigint as settlement_unit_fen
    from prices
    order by exam_date, batch_code, basis, province, level = '中级'
)
select * from final
