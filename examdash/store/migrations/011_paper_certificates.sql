-- How many paper certificates a school asks for in a batch (纸质版证书根据院校需求发放). Every request is
-- kept; the latest per batch and school counts (examdash/domain/certificates.py writes them).
create table paper_certificate_requests (
    request_id bigint not null,
    batch_code varchar not null,
    school_code varchar not null,
    copies integer not null,
    note varchar,
    requested_by varchar not null,
    requested_at timestamp not null
);

-- The one definition of whether a school's certificates of a batch can be issued (the notice: after the
-- publicity window, once both the organisation and the school have signed; open review items block),
-- for the certificate_* queries. One row per school with valid registrations in the batch (the signed-in
-- school's only, when p_scope_school is given).
create or replace macro certificate_schools(p_batch, p_today, p_scope_school) as table
with batch_row as (
    select publicity_start, publicity_end, cert_from from batches where batch_code = p_batch
),
school_results as (
    select school_code, count(*)::bigint as registered, count_if(passed is true)::bigint as passed
    from results
    where batch_code = p_batch
      and (p_scope_school is null or school_code = p_scope_school)
    group by school_code
),
items as (
    select r.school_code, i.status
    from review_items i
    join review_requests r using (request_id)
    where r.batch_code = p_batch
),
item_counts as (
    select
        school_code,
        count(*)::bigint as review_items,
        count_if(status in (select status from review_statuses where is_open))::bigint as open_items
    from items
    group by school_code
),
signs as (
    select
        school_code,
        max(signed_by) filter (where party = 'org') as org_signed_by,
        max(signed_at) filter (where party = 'org') as org_signed_at,
        max(signed_by) filter (where party = 'school') as school_signed_by,
        max(signed_at) filter (where party = 'school') as school_signed_at
    from signoffs
    where batch_code = p_batch
    group by school_code
),
school_names as (
    select school_code, school_name, province from schools
),
joined as (
    select
        s.school_code,
        n.school_name,
        n.province,
        s.registered,
        s.passed,
        coalesce(c.review_items, 0) as review_items,
        coalesce(c.open_items, 0) as open_items,
        g.org_signed_by,
        g.org_signed_at,
        g.school_signed_by,
        g.school_signed_at,
        b.cert_from,
        cast(p_today as date) > b.publicity_end as window_over
    from school_results s
    cross join batch_row b
    left join item_counts c using (school_code)
    left join signs g using (school_code)
    left join school_names n using (school_code)
)
select
    *,
    window_over and open_items = 0 and org_signed_at is not null and school_signed_at is not null as can_issue,
    case
        when not window_over then '公示期未结束，' || strftime(cert_from, '%m-%d') || ' 起可签发'
        when open_items > 0 then '尚有 ' || open_items || ' 项复核未结'
        when org_signed_at is null and school_signed_at is null then '待培训评价组织与学校签发'
        when org_signed_at is null then '待培训评价组织签发'
        when school_signed_at is null then '待学校签发'
        else '可颁发证书'
    end as status_text
from joined;
