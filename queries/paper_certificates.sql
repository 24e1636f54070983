-- name: paper_certificates
-- purpose: per school, how many paper certificates it asked for in the batch (its latest request), beside its passed candidates and certificate status, for the totals staff see
-- grain: one row per school with valid registrations in the batch
-- params: $batch, $today
-- key: school_code
with schools_in as (
    select school_code, school_name, province, passed, can_issue, status_text
    from certificate_schools($batch, $today, $scope_school)
),
latest as (
    select school_code, copies, note, requested_by, requested_at
    from paper_certificate_requests
    where batch_code = $batch
      and ($scope_school is null or school_code = $scope_school)
    qualify row_number() over (partition by school_code order by request_id desc) = 1
),
final as (
    select
        s.school_code,
        s.school_name,
        s.province,
        s.passed,
        s.can_issue,
        s.status_text,
        l.copies,
        l.note,
        l.requested_by,
        l.requested_at
    from schools_in s
    left join latest l using (school_code)
    order by l.copies is null, s.school_code
)
select * from final
