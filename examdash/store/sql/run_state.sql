-- name: run_state
-- purpose: what every page run needs to know once, in one read: the data version (query and view caches
--   are keyed by it), the pinned day if any, a fingerprint of the accounts (the cached account list is
--   rebuilt when any account's role, school, active flag or session epoch changes, however it was
--   written), and the web session this page run belongs to (absent: no session)
-- grain: one row
-- params: $session_id (0 when the page run has no web session)
-- key: one row
select
    (select cast(value as bigint) from meta where key = 'data_version') as data_version,
    (select value from meta where key = 'today') as pinned_day,
    (select count(*) from users) as accounts,
    (select coalesce(sum(hash(username, role, coalesce(school_code, ''), active, coalesce(session_epoch, 0),
                              display_name, coalesce(email, ''), coalesce(site_code, ''))), 0)
       from users) as accounts_hash,
    s.username as session_user,
    s.epoch as session_epoch,
    s.last_seen as session_last_seen,
    s.expires_at as session_expires_at,
    s.revoked_at as session_revoked_at,
    s.revoked_reason as session_revoked_reason
from (select 1) as one
left join web_sessions s on s.session_id = $session_id;
