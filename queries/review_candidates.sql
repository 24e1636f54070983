-- name: review_candidates
-- purpose: the candidates a school can name in a review request, with their attendance and latest scores
-- grain: one row per valid registration with a ticket number in the batch (the school's own, by scope)
-- params: $batch
-- key: ticket_no
with results_in as (
    select *
    from results
    where batch_code = $batch
      and ticket_no is not null
      and ($scope_school is null or school_code = $scope_school)
),
final as (
    select ticket_no, name, level, school_code, attendance_status, theory, practical, total, passed, score_version
    from results_in
    order by level = '中级', level, ticket_no
)
select * from final
