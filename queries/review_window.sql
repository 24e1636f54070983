-- name: review_window
-- purpose: a batch's publicity window seen from a given day: state, days until it opens, days left (today included), days to certificates
-- grain: one row
-- params: $batch, $today
-- access: all
with batch_row as (
    select batch_code, batch_name, publicity_start, publicity_end, cert_from, cast($today as date) as today
    from batches
    where batch_code = $batch
),
final as (
    select
        batch_code,
        batch_name,
        publicity_start,
        publicity_end,
        cert_from,
        case
            when today < publicity_start then 'before'
            when today <= publicity_end then 'open'
            else 'closed'
        end as state,
        greatest(date_diff('day', today, publicity_start), 0)::bigint as days_to_open,
        case
            when today > publicity_end then 0
            else date_diff('day', greatest(today, publicity_start), publicity_end) + 1
        end::bigint as days_left,
        greatest(date_diff('day', today, cert_from), 0)::bigint as days_to_cert
    from batch_row
)
select * from final
