-- name: batch_calendar
-- purpose: the stages of one batch's calendar, for the timeline on the overview
-- grain: one row per stage of the batch
-- params: $batch
-- key: seq
-- access: all
with stages as (
    select * from batch_stages where batch_code = $batch
),
batch as (
    select * from batches where batch_code = $batch
),
final as (
    select
        s.seq,
        s.stage,
        coalesce(s.start_date, s.end_date) as start_date,
        coalesce(s.end_date, s.start_date) as end_date,
        s.start_date is null as open_start,
        s.end_date is null as open_end
    from stages s
    cross join batch b
    order by s.seq
)
select * from final
