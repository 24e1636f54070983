-- Fees. Each fee rule is written once, here, as a view; the queries/fee_*.sql files
-- only filter, scope and add up these views. examdash/domain/fees.py states the same rules in words.

-- Staff decisions about bank lines live apart from payments: the importer replaces a changed bank
-- line by its 银行流水号, and a corrected bank file must not undo a decision already made.
create table payment_assignments (
    bank_ref varchar not null,
    school_code varchar,  -- null: staff put the line back in the queue (belongs to no school yet)
    assigned_by varchar not null,
    assigned_at timestamp not null,
    note varchar
);

-- Why an automatic match failed or is doubtful (the candidate schools of an ambiguous remark).
alter table payments add column match_note varchar;

-- Rule 2, which registrations are charged: every registration whose status is 正常, whether or
-- not the candidate sat the exam (缺考 is charged); 已取消 is not charged. Social candidates are
-- registered, and so charged, under the school that runs their site.
create view fee_charged_registrations as
select batch_code, school_code, level, candidate_type, id_no
from registrations
where status = '正常';

-- Rule 1, the price of one registration per batch, province (the paying school's) and level:
-- the latest standard in force on the exam date; else the first standard the province published
-- later in the exam's calendar year (final price; the provisional price collected is settled,
-- 多退少补); else the provisional price.
create view fee_prices as
with batch_rows as (
    select batch_code, batch_name, exam_date from batches
),
province_rows as (
    select province from schools where province is not null
    union
    select province from fee_standards
),
level_rows as (
    select level from provisional_fees
    union
    select level from fee_standards
),
grid as (
    select b.batch_code, b.batch_name, b.exam_date, p.province, l.level, pf.amount_fen as provisional_unit_fen
    from batch_rows b
    cross join province_rows p
    cross join level_rows l
    left join provisional_fees pf on pf.level = l.level
),
on_exam_day as (
    select g.batch_code, g.province, g.level, f.amount_fen, f.doc_no, f.effective_date
    from grid g
    join fee_standards f on f.province = g.province and f.level = g.level and f.effective_date <= g.exam_date
    qualify row_number() over (partition by g.batch_code, g.province, g.level order by f.effective_date desc) = 1
),
later_in_year as (
    select g.batch_code, g.province, g.level, f.amount_fen, f.doc_no, f.effective_date
    from grid g
    join fee_standards f on f.province = g.province and f.level = g.level
        and f.effective_date > g.exam_date and year(f.effective_date) = year(g.exam_date)
    qualify row_number() over (partition by g.batch_code, g.province, g.level order by f.effective_date) = 1
),
priced as (
    select
        g.*,
        case
            when d.amount_fen is not null then 'standard'
            when y.amount_fen is not null then 'settled'
            else 'provisional'
        end as basis,
        coalesce(d.amount_fen, y.amount_fen, g.provisional_unit_fen) as unit_fen,
        coalesce(d.doc_no, y.doc_no) as doc_no,
        coalesce(d.effective_date, y.effective_date) as standard_effective_date
    from grid g
    left join on_exam_day d using (batch_code, province, level)
    left join later_in_year y using (batch_code, province, level)
),
final as (
    select
        batch_code, batch_name, exam_date, province, level, basis,
        case basis
            when 'standard' then '省级标准'
            when 'settled' then '暂收后按省级标准多退少补'
            else '暂行标准'
        end as price_basis,
        case basis
            when 'standard' then coalesce(doc_no, '省级标准（无文号）')
            when 'settled' then coalesce(doc_no, '省级标准（无文号）') || '（'
                || strftime(standard_effective_date, '%Y-%m-%d') || ' 起执行，考后公布，多退少补）'
            else '暂行标准（初级 270 元 / 中级 280 元 每人次）'
        end as price_source,
        doc_no,
        standard_effective_date,
        unit_fen::bigint as unit_fen,
        case when basis <> 'standard' then provisional_unit_fen end::bigint as provisional_unit_fen
    from priced
)
select * from final;

-- One priced line per batch, paying school and level. A school without a province (not in the
-- schools list) pays the provisional price.
create view fee_priced_lines as
with charged as (
    select batch_code, school_code, level, count(*)::bigint as registrations
    from fee_charged_registrations
    group by all
),
located as (
    select c.*, b.batch_name, b.exam_date, s.school_name, s.province
    from charged c
    join batches b using (batch_code)
    left join schools s using (school_code)
),
provisional as (
    select level, amount_fen from provisional_fees
),
final as (
    select
        l.batch_code, l.batch_name, l.exam_date, l.school_code, coalesce(l.school_name, l.school_code) as school_name,
        l.province, l.level, l.registrations,
        coalesce(p.basis, 'provisional') as basis,
        coalesce(p.price_basis, '暂行标准') as price_basis,
        coalesce(p.price_source, '暂行标准（初级 270 元 / 中级 280 元 每人次）') as price_source,
        p.doc_no,
        p.standard_effective_date,
        coalesce(p.unit_fen, pv.amount_fen)::bigint as unit_fen,
        case when p.basis is null then pv.amount_fen else p.provisional_unit_fen end::bigint as provisional_unit_fen,
        (l.registrations * coalesce(p.unit_fen, pv.amount_fen))::bigint as amount_fen,
        (l.registrations * case when p.basis is null then pv.amount_fen else p.provisional_unit_fen end)::bigint
            as provisional_amount_fen,
        case when p.basis = 'settled' then l.registrations * (p.unit_fen - p.provisional_unit_fen) else 0 end::bigint
            as settlement_fen
    from located l
    left join fee_prices p on p.batch_code = l.batch_code and p.province = l.province and p.level = l.level
    left join provisional pv on pv.level = l.level
)
select * from final;

-- Rule 4, a bank line counts once: one row per 银行流水号 whatever was imported (the importer keys
-- on it too; this keeps every sum right even if a duplicate ever got in).
create view fee_payments as
select *
from payments
qualify row_number() over (partition by bank_ref order by import_id desc nulls last, paid_date desc) = 1;

-- Rule 5, payments are per school, not per batch. For a per-batch view a school's matched payments
-- cover its batches oldest exam first, each up to what it was charged; whatever is left (credit,
-- or a negative total) stays with its latest charged batch, or the plan's latest batch for a school
-- with payments and no charges. Summed over batches it is exactly the school's total paid.
create view fee_school_batches as
with lines as (
    select school_code, batch_code, exam_date,
        sum(registrations)::bigint as registrations,
        sum(amount_fen)::bigint as charged_fen,
        sum(provisional_amount_fen)::bigint as provisional_fen,
        sum(settlement_fen)::bigint as settlement_fen
    from fee_priced_lines
    group by all
),
paid as (
    select school_code, sum(amount_fen)::bigint as paid_fen, count(*)::bigint as payments
    from fee_payments
    where school_code is not null
    group by all
),
latest_batch as (
    select batch_code, exam_date from batches order by exam_date desc, batch_code desc limit 1
),
school_rows as (
    select school_code, batch_code, exam_date, registrations, charged_fen, provisional_fen, settlement_fen from lines
    union all
    select p.school_code, b.batch_code, b.exam_date, 0, 0, 0, 0
    from paid p
    cross join latest_batch b
    where p.school_code not in (select school_code from lines)
),
ordered as (
    select
        r.*,
        coalesce(p.paid_fen, 0)::bigint as school_paid_fen,
        coalesce(p.payments, 0)::bigint as school_payments,
        coalesce(sum(r.charged_fen) over (
            partition by r.school_code order by r.exam_date, r.batch_code
            rows between unbounded preceding and 1 preceding), 0)::bigint as charged_before_fen,
        row_number() over (partition by r.school_code order by r.exam_date desc, r.batch_code desc) = 1 as takes_rest
    from school_rows r
    left join paid p using (school_code)
),
first_pass as (
    select *, greatest(0, least(charged_fen, school_paid_fen - charged_before_fen))::bigint as covered_fen
    from ordered
),
final as (
    select
        school_code, batch_code, exam_date, registrations, charged_fen, provisional_fen, settlement_fen,
        (covered_fen + case when takes_rest
            then school_paid_fen - sum(covered_fen) over (partition by school_code) else 0 end)::bigint as paid_fen,
        school_paid_fen,
        school_payments
    from first_pass
)
select * from final;
