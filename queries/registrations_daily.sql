-- name: registrations_daily
-- purpose: registrations per day and level with the running total, every day from the first registration to the deadline
-- grain: one row per calendar day and level (days without registrations included, count 0)
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: day, level
-- Registrations that arrive after the deadline (late corrections) extend the range rather than vanish.
with results_in as (
    select level, registered_at::date as day
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
    where registered_at is not null
),
batch_row as (
    select reg_deadline from batches where batch_code = $batch
),
per_day as (
    select level, day, count(*)::bigint as registered
    from results_in
    group by level, day
),
span as (
    select min(p.day) as first_day, greatest(max(p.day), any_value(b.reg_deadline)) as last_day
    from per_day p
    cross join batch_row b
),
days as (
    select unnest(generate_series(first_day, last_day, interval 1 day))::date as day
    from span
    where first_day is not null
),
levels as (
    select distinct level from per_day
),
grid as (
    select l.level, d.day, coalesce(p.registered, 0)::bigint as registered
    from levels l
    cross join days d
    left join per_day p on p.level = l.level and p.day = d.day
),
final as (
    select
        day,
        level,
        registered,
        (sum(registered) over (partition by level order by day))::bigint as cumulative
    from grid
    order by level = '中级', level, day
)
select * from final
