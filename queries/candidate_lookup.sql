-- name: candidate_lookup
-- purpose: a candidate's own result for the self-lookup: the registration whose ticket and last 6 ID characters both match, in a batch whose publicity has begun, with scores, verdict and the status of review items about it (the certificate status comes from certificate_status in the school's scope); name unmasked (the caller masks)
-- grain: one row per matching valid registration (batch, id_no, level)
-- params: $ticket, $id_tail, $today
-- key: batch_code, id_no, level
-- Only examdash/domain/lookup.py runs it (throttled, audited); both values must match, so a wrong ticket
-- and a wrong ID number find the same nothing.
with open_batches as (
    select batch_code, batch_name, publicity_start, publicity_end, cert_from
    from batches
    where publicity_start <= cast($today as date)
),
mine as (
    select r.*
    from results r
    join open_batches b using (batch_code)
    where r.ticket_no = $ticket
      and upper(right(r.id_no, 6)) = upper($id_tail)
),
items as (
    select q.batch_code, i.ticket_no, i.status, i.decision_note, i.item_id
    from review_items i
    join review_requests q using (request_id)
    where i.ticket_no = $ticket
),
item_text as (
    select batch_code, ticket_no, string_agg(status, '、' order by item_id) as review_status
    from items
    group by batch_code, ticket_no
),
final as (
    select
        m.batch_code,
        b.batch_name,
        m.ticket_no,
        m.name,
        m.id_no,
        m.level,
        m.attendance_status,
        m.sat,
        m.theory::double as theory,
        m.practical::double as practical,
        m.total::double as total,
        m.passed,
        b.publicity_start,
        b.publicity_end,
        b.cert_from,
        m.school_code,
        t.review_status
    from mine m
    join open_batches b using (batch_code)
    left join item_text t on t.batch_code = m.batch_code and t.ticket_no = m.ticket_no
)
select * from final
