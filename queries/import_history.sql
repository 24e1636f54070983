-- name: import_history
-- purpose: the import log, newest first, for the import page
-- grain: one row per import, at most 500
-- params: none
-- key: import_id
-- access: admin
with imports as (
    select * from import_log
),
final as (
    select import_id, imported_at, imported_by, kind, file_name, batch_code, rows_total, added, replaced,
           unchanged, rejected, warnings, status, sha256
    from imports
    order by import_id desc
    limit 500
)
select * from final
