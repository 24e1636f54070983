-- name: data_status
-- purpose: what has been imported so far, for the guidance pages show on a new or partly filled store: the reference lists, and the batch's (every batch's when none is given) registrations, sign-ins and scores in the caller's scope, whether the batch has any registrations or scores at all, fee standards and matched payments
-- grain: one row
-- params: $batch?
-- key: one row
-- access: all
with results_in as (
    select school_code, site_code, attendance_status, score_version
    from results
    where ($batch is null or batch_code = $batch)
),
mine as (
    select *
    from results_in
    where ($scope_school is null or school_code = $scope_school)
      and ($scope_site is null or site_code = $scope_site)
),
final as (
    select
        (select count(*) from schools)::bigint as schools,
        (select count(*) from sites)::bigint as sites,
        (select count(*) from mine)::bigint as registered,
        (select count(*) filter (where attendance_status is not null) from mine)::bigint as attended,
        (select count(*) filter (where score_version is not null) from mine)::bigint as scored,
        exists (select 1 from results_in) as batch_registered,
        exists (select 1 from results_in where score_version is not null) as batch_scored,
        (select count(*) from fee_standards)::bigint as fee_standards,
        (select count(*) from payments
         where $scope_site is null and ($scope_school is null or school_code = $scope_school))::bigint as payments
)
select * from final
