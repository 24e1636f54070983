-- The one definition of what the shared sidebar filters (examdash/web/filters.py, examdash/views/common.py) mean, for the named
-- queries that read `results`: the batch, the signed-in school's scope, then level, province (the
-- school's province, as results.province holds it), exam site, school and candidate type, each
-- ignored when NULL. Queries call it as
--     filtered_results($batch, $scope_school, $level, $province, $site, $school, $candidate_type)
-- passing null for a filter they do not take. A query whose filter means something else (a site's
-- province, a national rate over every place) writes its own where clause instead.
-- The parameters are named p_* because a macro parameter named like a column would shadow it.
create or replace macro filtered_results(
    p_batch, p_scope_school, p_level, p_province, p_site, p_school, p_candidate_type
) as table
    select *
    from results
    where batch_code = p_batch
        and (p_scope_school is null or school_code = p_scope_school)
        and (p_level is null or level = p_level)
        and (p_province is null or province = p_province)
        and (p_site is null or site_code = p_site)
        and (p_school is null or school_code = p_school)
        and (p_candidate_type is null or candidate_type = p_candidate_type);
