-- name: score_histogram
-- purpose: score distribution of theory, practical and total in 5-point bins, counted in SQL so the page fetches 63 rows
-- grain: one row per part (theory, practical, total) and bin (0, 5, ..., 95; 100 falls in the 95 bin)
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: part, bin
with results_in as (
    select theory::double as theory, practical::double as practical, total::double as total
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
    where score_version is not null
        and theory is not null
),
binned as (
    select
        count_if(theory is not null) as n,
        histogram(least(floor(theory / 5) * 5, 95)::integer) as theory,
        histogram(least(floor(practical / 5) * 5, 95)::integer) as practical,
        histogram(least(floor(total / 5) * 5, 95)::integer) as total
    from results_in
),
long as (
    select 'theory' as part, unnest(map_keys(theory)) as bin, unnest(map_values(theory)) as candidates from binned
    union all
    select 'practical', unnest(map_keys(practical)), unnest(map_values(practical)) from binned
    union all
    select 'total', unnest(map_keys(total)), unnest(map_values(total)) from binned
),
grid as (
    select p.part, p.seq, b.bin
    from (values ('theory', 1), ('practical', 2), ('total', 3)) p(part, seq)
    cross join (select unnest(range(0, 100, 5))::integer as bin) b
),
final as (
    select g.part, g.bin, coalesce(l.candidates, 0)::bigint as candidates
    from grid g
    left join long l on l.part = g.part and l.bin = g.bin
    order by g.seq, g.bin
)
select * from final
