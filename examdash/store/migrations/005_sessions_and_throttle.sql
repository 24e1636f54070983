-- Sessions end when an account's credentials change: a password reset or disabling the account bumps
-- its session_epoch, and a session signed in under an older epoch is signed out at its next page run or
-- download (examdash/web/__init__.py).
alter table users add column session_epoch integer default 0;

-- Login throttling per user name *and client*: failures from one client lock that client out of that
-- account, not the account's owner elsewhere; and per client across user names, so one client cannot
-- walk through names. Rows only ever hold well-formed user names (checked before any write).
drop table login_throttle;
create table login_throttle (
    username varchar not null,
    client varchar not null,
    failures integer not null,
    last_failure_at timestamp not null,
    locked_until timestamp
);
create table client_throttle (
    client varchar not null,
    failures integer not null,
    last_failure_at timestamp not null,
    locked_until timestamp
);
