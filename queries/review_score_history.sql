-- name: review_score_history
-- purpose: every score version of one candidate (imports and review corrections), the latest marked
-- grain: one row per score version of the ticket; newest first
-- params: $batch, $ticket
-- key: ticket_no, version
with candidate as (
    select ticket_no, school_code
    from registrations
    where batch_code = $batch
      and ticket_no = $ticket
      and ($scope_school is null or school_code = $scope_school)
),
versions as (
    select *
    from score_versions
    where batch_code = $batch
      and ticket_no = $ticket
),
final as (
    select
        v.ticket_no,
        v.version,
        v.theory,
        v.practical,
        v.total,
        v.absent,
        v.source,
        v.reason,
        v.created_by,
        v.created_at,
        v.version = max(v.version) over () as is_latest
    from versions v
    join candidate c using (ticket_no)
    order by v.version desc
)
select * from final
