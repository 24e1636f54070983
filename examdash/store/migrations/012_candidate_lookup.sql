-- Throttling of the candidates' self-lookup (examdash/domain/lookup.py): failed lookups per client and
-- per ticket number typed, each counted in a window and locked for a while past a limit. Keys are keyed
-- hashes (HMAC with meta 'lookup_key'), never the typed text.
create table lookup_throttle (
    kind varchar not null,
    key varchar not null,
    failures integer not null,
    first_failure_at timestamp not null,
    locked_until timestamp
);
