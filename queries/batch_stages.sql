-- name: batch_stages
-- purpose: every batch's calendar stages with the batch's key dates, for the "what is next" panel (stage now, next deadline, to-dos)
-- grain: one row per batch and stage
-- params: none
-- key: batch_code, seq
-- access: all
with batch_rows as (
    select batch_code, batch_name, exam_date, reg_deadline, publicity_start, publicity_end, cert_from
    from batches
),
stage_rows as (
    select batch_code, seq, stage, start_date, end_date from batch_stages
),
final as (
    select b.*, s.seq, s.stage, s.start_date, s.end_date
    from batch_rows b
    join stage_rows s using (batch_code)
    order by b.exam_date, s.seq
)
select * from final
