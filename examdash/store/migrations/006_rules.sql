-- The rules queries need, as data: filled from examdash/domain/rules.py every time the database is
-- opened for writing (examdash/store/db.py sync_rules), so no query spells a status or a weight itself.
create table review_statuses (
    status varchar not null,
    seq integer not null,
    is_open boolean not null
);
create table score_rule (
    theory_weight decimal(3, 2) not null,
    practical_weight decimal(3, 2) not null,
    pass_mark decimal(5, 1) not null
);
