-- name: overview_totals
-- purpose: whole-batch headline figures: candidates, sites, schools, open review requests, unmatched payments
-- grain: one row
-- params: $batch
-- key: one row
with results_in as (
    select * from results where batch_code = $batch
),
open_items as (
    select i.item_id
    from review_items i
    join review_requests r using (request_id)
    where r.batch_code = $batch and i.status in (select status from review_statuses where is_open)
),
unmatched as (
    select * from payments where school_code is null
),
final as (
    select
        (select count(*) from results_in)::bigint as registered,
        (select count(*) filter (where sat) from results_in)::bigint as sat,
        (select count(*) filter (where passed is true) from results_in)::bigint as passed,
        (select count(distinct site_code) from results_in)::bigint as sites,
        (select count(distinct school_code) from results_in)::bigint as schools,
        (select count(*) from open_items)::bigint as open_review_items,
        (select count(*) from unmatched)::bigint as unmatched_payments,
        (select coalesce(sum(amount_fen), 0) from unmatched)::bigint as unmatched_fen
)
select * from final
