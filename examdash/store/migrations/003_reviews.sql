-- Score reviews and certificate sign-offs: the rules "one request per school per batch", "one item per
-- candidate per request" and "each party signs once" are checked in examdash/domain/reviews.py inside
-- the write transaction. The store (a DuckLake) has no unique indexes; writers of every process take the
-- store's write lock (examdash/store/lake.py), so the check and the insert cannot interleave with another
-- writer's. This migration once created unique indexes and is kept, empty, so that the numbering holds.
select 1;
