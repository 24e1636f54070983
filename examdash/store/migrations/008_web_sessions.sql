-- Web sessions that survive a reload and a new tab. The browser holds only a random token in an
-- HttpOnly, SameSite=Lax cookie (set by serve.py's middleware); the store holds its SHA-256, never the
-- token itself. A login opens a record for the token; a page run in any tab of that browser finds it.
-- A record ends when it is revoked (logout in any tab, a password reset, the account disabled) or
-- when it has been idle past the timeout (expires_at moves on as the session is used). The epoch is
-- the account's session_epoch at login: a record from an older epoch does not sign anyone in.
create table web_sessions (
    session_id bigint not null,
    token_hash varchar not null,
    username varchar not null,
    epoch integer not null,
    method varchar not null,
    created_at timestamp not null,
    last_seen timestamp not null,
    expires_at timestamp not null,
    revoked_at timestamp,
    revoked_reason varchar
);
