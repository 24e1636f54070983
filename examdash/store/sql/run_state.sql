-- name: run_state
-- purpose: what every page run needs to know of the lake, in one read: the data version (query and view
--   caches are keyed by it), the pinned day if any, and a fingerprint of the accounts (the cached account
--   list is rebuilt when any account's role, school, active flag or session epoch changes, however it was
--   written). Read once per change of the lake in each process (db.lake_state); the run's web session is
--   read from the application database (store/appdb.py)
-- grain: one row
-- params: none
-- key: one row
select
    (select cast(value as bigint) from meta where key = 'data_version') as data_version,
    (select value from meta where key = 'today') as pinned_day,
    (select count(*) from users) as accounts,
    (select coalesce(sum(hash(username, role, coalesce(school_code, ''), active, coalesce(session_epoch, 0),
                              display_name, coalesce(email, ''), coalesce(site_code, ''))), 0)
       from users) as accounts_hash;
