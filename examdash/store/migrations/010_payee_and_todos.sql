-- The payee of the fees (汇款账户信息 of the notice) and its remark rule, one row, loaded from the exam
-- plan's [payee] each time the store is opened for writing (examdash/store/db.py sync_plan).
create table payee (
    company varchar not null,
    taxpayer_id varchar not null,
    address varchar not null,
    phone varchar not null,
    bank varchar not null,
    account varchar not null,
    remark varchar not null
);

-- What the notice asks of whom in each stage of a batch's calendar (the exam plan's [todos], by stage
-- name), loaded with the plan. audience: school / site / staff.
create table stage_todos (
    stage varchar not null,
    seq integer not null,
    audience varchar not null,
    text varchar not null
);
