-- name: school_profile
-- purpose: one school's own reference row (name, province, type), for its portal
-- grain: one row (the school), none when out of scope
-- params: $school
-- key: one row
with school_rows as (
    select *
    from schools
    where school_code = $school
      and ($scope_school is null or school_code = $scope_school)
),
final as (
    select school_code, school_name, province, school_type, is_pilot from school_rows
)
select * from final
