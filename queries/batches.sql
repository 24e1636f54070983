-- name: batches
-- purpose: the exam batches of the plan with their key dates, newest first
-- grain: one row per batch
-- params: none
-- key: batch_code
-- access: all
with batch_rows as (
    select * from batches
),
final as (
    select batch_code, batch_name, exam_date, reg_deadline, publicity_start, publicity_end, cert_from
    from batch_rows
    order by exam_date desc
)
select * from final
