-- name: theory_vs_practical
-- purpose: theory against practical score, candidates per 10x10-point cell, for the heatmap
-- grain: one row per theory bin and practical bin (0, 10, ..., 90; 100 falls in the 90 bin), empty cells included
-- params: $batch, $level?, $province?, $site?, $school?, $candidate_type?
-- key: theory_bin, practical_bin
with results_in as (
    select theory::double as theory, practical::double as practical
    from filtered_results($batch, null, $level, $province, $site, $school, $candidate_type)
    where theory is not null
        and practical is not null
),
cells as (
    select
        least(floor(theory / 10) * 10, 90)::integer as theory_bin,
        least(floor(practical / 10) * 10, 90)::integer as practical_bin,
        count(*)::bigint as candidates
    from results_in
    group by all
),
grid as (
    select t.bin as theory_bin, p.bin as practical_bin
    from (select unnest(range(0, 100, 10))::integer as bin) t
    cross join (select unnest(range(0, 100, 10))::integer as bin) p
),
final as (
    select g.theory_bin, g.practical_bin, coalesce(c.candidates, 0)::bigint as candidates
    from grid g
    left join cells c using (theory_bin, practical_bin)
    order by g.theory_bin, g.practical_bin
)
select * from final
