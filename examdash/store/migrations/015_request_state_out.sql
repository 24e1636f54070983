-- What every request writes (web sessions and their touches, login and lookup throttles) moved to the
-- application database (examdash/store/appdb.py): each of those writes was a lake snapshot that made
-- every session of every process read its state again. Open sessions end with the move (sign in again);
-- the audit rows of earlier logins and lookups stay in audit_log. An account's last login is the newest
-- login event there now.
drop table web_sessions;
drop table login_throttle;
drop table client_throttle;
drop table lookup_throttle;
alter table users drop column last_login_at;
