-- name: fee_payment_list
-- purpose: matched bank payments with the school, how they were matched and the confidence (statement rows; low-confidence matches to check)
-- grain: one row per bank line (银行流水号) matched or assigned to a school
-- params: $province?, $school?
-- key: bank_ref
with matched as (
    select *
    from fee_payments
    where school_code is not null
      and ($school is null or school_code = $school)
      and ($scope_school is null or school_code = $scope_school)
),
school_rows as (
    select school_code, school_name, province from schools
),
final as (
    select
        m.bank_ref, m.paid_date, m.payer, m.amount_fen, (m.amount_fen * 0.01)::decimal(18, 2) as amount, m.remark,
        m.school_code, coalesce(s.school_name, m.school_code) as school_name, s.province,
        m.match_method, m.match_confidence, m.match_note, m.assigned_by, m.assigned_at
    from matched m
    left join school_rows s using (school_code)
    where ($province is null or s.province = $province)
    order by m.school_code, m.paid_date, m.bank_ref
)
select * from final
