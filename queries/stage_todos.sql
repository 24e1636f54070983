-- name: stage_todos
-- purpose: what the notice asks of schools, sites and the organiser in each calendar stage (by stage name, for every batch)
-- grain: one row per stage and to-do
-- params: none
-- key: stage, seq
-- access: all
with todos as (
    select stage, seq, audience, text from stage_todos
),
final as (
    select * from todos order by stage, seq
)
select * from final
