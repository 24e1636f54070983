-- name: fee_school_batches
-- purpose: each school's charges per batch and the matched payments allocated to that batch (oldest exam first; the rest, credit included, stays with the latest)
-- grain: one row per school and batch with charges, plus the carrying batch of a school that paid without charges
-- params: $batch?, $province?, $school?
-- key: school_code, batch_code
with school_batches as (
    select *
    from fee_school_batches
    where ($batch is null or batch_code = $batch)
      and ($school is null or school_code = $school)
      and ($scope_school is null or school_code = $scope_school)
),
school_rows as (
    select school_code, school_name, province from schools
),
batch_rows as (
    select batch_code, batch_name from batches
),
final as (
    select
        b.school_code,
        coalesce(s.school_name, b.school_code) as school_name,
        s.province,
        b.batch_code,
        r.batch_name,
        b.exam_date,
        b.registrations,
        b.charged_fen,
        b.provisional_fen,
        b.settlement_fen,
        b.paid_fen,
        (b.paid_fen - b.charged_fen)::bigint as balance_fen
    from school_batches b
    left join school_rows s using (school_code)
    left join batch_rows r using (batch_code)
    where ($province is null or s.province = $province)
    order by b.school_code, b.exam_date, b.batch_code
)
select * from final
