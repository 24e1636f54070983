-- name: certificate_list
-- purpose: the certificate list (证书名单): every candidate who passed, with level, batch, scores and the certificate status of their school; names and IDs unmasked (the caller masks)
-- grain: one row per passed valid registration (batch, id_no, level), ordered by school, level and ticket
-- params: $batch, $today, $school?
-- key: batch_code, id_no, level
with schools_in as (
    select school_code, school_name, can_issue, status_text
    from certificate_schools($batch, $today, $scope_school)
    where $school is null or school_code = $school
),
passed as (
    select batch_code, id_no, level, name, ticket_no, school_code, site_code, candidate_type, theory, practical, total
    from results
    where batch_code = $batch
      and passed is true
      and ($scope_school is null or school_code = $scope_school)
      and ($school is null or school_code = $school)
),
final as (
    select
        p.batch_code,
        p.ticket_no,
        p.name,
        p.id_no,
        p.level,
        p.school_code,
        s.school_name,
        p.candidate_type,
        p.theory::double as theory,
        p.practical::double as practical,
        p.total::double as total,
        s.can_issue,
        s.status_text as certificate_status
    from passed p
    join schools_in s using (school_code)
    order by p.school_code, p.level = '中级', p.ticket_no, p.id_no
)
select * from final
