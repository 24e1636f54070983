-- Ids without sequences (a DuckLake has none): the next id of each table that has one, kept by
-- examdash/store/db.py next_id. A counter never goes back, so an id is never given twice even after the
-- row that had it was deleted; two machines that take an id at the same moment both update this table,
-- and DuckLake commits only one of them.
create table id_counters (
    table_name varchar not null,
    next_id bigint not null
);
