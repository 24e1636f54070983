-- name: certificate_status
-- purpose: per school, whether its certificates can be issued: window over, no open review items, both sign-offs
-- grain: one row per school with valid registrations in the batch
-- params: $batch, $today
-- key: school_code
-- The rule is the macro certificate_schools (migration 011), shared with the certificate list.
with schools_in as (
    select * from certificate_schools($batch, $today, $scope_school)
),
final as (
    select * from schools_in
    order by can_issue, open_items desc, school_code
)
select * from final
