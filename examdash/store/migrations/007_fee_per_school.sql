-- Each school's fees summed over its batches (one batch with p_batch, every batch when it is null), in
-- the signed-in school's scope, with the school's name and province: the one definition that the fee
-- balance, total and per-province queries add up from, so that their figures always agree. Queries
-- call it as
--     fee_per_school($batch, $scope_school)
-- and filter on province or school themselves. `payments` is the number of bank lines matched to the
-- school (all batches: payments are not per batch).
create or replace macro fee_per_school(p_batch, p_scope_school) as table
    select
        b.school_code,
        coalesce(any_value(s.school_name), b.school_code) as school_name,
        any_value(s.province) as province,
        sum(b.registrations)::bigint as registrations,
        sum(b.charged_fen)::bigint as charged_fen,
        sum(b.paid_fen)::bigint as paid_fen,
        sum(b.settlement_fen)::bigint as settlement_fen,
        max(b.school_payments)::bigint as payments
    from fee_school_batches b
    left join schools s using (school_code)
    where (p_batch is null or b.batch_code = p_batch)
      and (p_scope_school is null or b.school_code = p_scope_school)
    group by b.school_code;
