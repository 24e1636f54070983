-- name: lookup_index
-- purpose: the candidates' self-lookup index: every published result (batches whose publicity has begun by
--   $today) with the full ID number to check the typed one against, the scores, and the latest review item
--   about the ticket with its outcome (the scores it replaced when a correction changed them, the staff's
--   note, the decision date); built once per data version and day in each app process
--   (examdash/domain/lookup.py), never per visitor; names unmasked (the caller masks)
-- grain: one row per result with a ticket number (batch, id_no, level)
-- params: $today
-- key: batch_code, id_no, level
with open_batches as (
    select batch_code, batch_name, publicity_start, publicity_end, cert_from
    from batches
    where publicity_start <= cast($today as date)
),
published as (
    select r.*
    from results r
    join open_batches b using (batch_code)
    where r.ticket_no is not null
),
items as (
    select q.batch_code, i.ticket_no, i.item_id, i.status, i.decision_note, i.decided_at, i.new_version
    from review_items i
    join review_requests q using (request_id)
    join open_batches b on b.batch_code = q.batch_code
),
latest_item as (
    select *
    from items
    qualify row_number() over (partition by batch_code, ticket_no order by item_id desc) = 1
),
replaced as (
    select
        v.batch_code,
        v.ticket_no,
        arg_max(v.theory, v.version)::double as before_theory,
        arg_max(v.practical, v.version)::double as before_practical,
        arg_max(v.total, v.version)::double as before_total
    from score_versions v
    join latest_item i on v.batch_code = i.batch_code and v.ticket_no = i.ticket_no
    where i.new_version is not null
      and v.version < i.new_version
    group by v.batch_code, v.ticket_no
),
final as (
    select
        p.batch_code,
        b.batch_name,
        p.ticket_no,
        p.id_no,
        p.name,
        p.level,
        p.school_code,
        p.attendance_status,
        p.sat,
        p.theory::double as theory,
        p.practical::double as practical,
        p.total::double as total,
        p.passed,
        b.publicity_start,
        b.publicity_end,
        i.status as review_status,
        i.decision_note as review_note,
        i.decided_at as review_decided_at,
        x.before_theory,
        x.before_practical,
        x.before_total
    from published p
    join open_batches b using (batch_code)
    left join latest_item i on i.batch_code = p.batch_code and i.ticket_no = p.ticket_no
    left join replaced x on x.batch_code = p.batch_code and x.ticket_no = p.ticket_no
    order by p.ticket_no, p.batch_code, p.level
)
select * from final
