-- Base schema. The store is a DuckLake, which has no PRIMARY KEY, UNIQUE, CHECK, sequence or index: keys
-- are kept by the code that writes (the importers replace rows by key inside one transaction and refuse
-- duplicates in a file; examdash/domain checks users, reviews and sign-offs), ids come from
-- db.next_id, and every writer holds the store's write lock (examdash/store/lake.py).

create table meta (
    key varchar not null,
    value varchar
);
insert into meta values ('data_version', '0');

create table batches (
    batch_code varchar not null,
    batch_name varchar not null,
    exam_date date not null,
    reg_deadline date not null,
    publicity_start date not null,
    publicity_end date not null,
    cert_from date not null
);

create table batch_stages (
    batch_code varchar not null,
    seq integer not null,
    stage varchar not null,
    start_date date,
    end_date date
);

create table pass_rules (
    batch_code varchar not null,
    level varchar not null,
    rule varchar not null
);

create table provisional_fees (
    level varchar not null,
    amount_fen bigint not null
);

create table schools (
    school_code varchar not null,
    school_name varchar not null,
    province varchar not null,
    school_type varchar,
    is_pilot boolean not null,
    import_id bigint
);

create table sites (
    site_code varchar not null,
    site_name varchar not null,
    province varchar not null,
    city varchar,
    school_code varchar,
    seats integer,
    import_id bigint
);

create table registrations (
    batch_code varchar not null,
    id_no varchar not null,
    level varchar not null,
    name varchar not null,
    school_code varchar not null,
    site_code varchar not null,
    candidate_type varchar not null,
    registered_at timestamp,
    ticket_no varchar,
    status varchar not null default '正常',
    import_id bigint
);

create table attendance (
    batch_code varchar not null,
    ticket_no varchar not null,
    room varchar,
    seat varchar,
    status varchar not null,
    import_id bigint
);

-- A corrected score never overwrites: every change is a new version.
create table score_versions (
    batch_code varchar not null,
    ticket_no varchar not null,
    version integer not null,
    id_no varchar,
    theory decimal(5, 1),
    practical decimal(5, 1),
    total decimal(5, 1),
    absent boolean not null,
    supplied_passed boolean,
    source varchar not null,
    reason varchar,
    created_by varchar,
    created_at timestamp not null,
    import_id bigint
);

create table fee_standards (
    province varchar not null,
    level varchar not null,
    effective_date date not null,
    amount_fen bigint not null,
    doc_no varchar,
    import_id bigint
);

create table payments (
    bank_ref varchar not null,
    paid_date date not null,
    payer varchar,
    amount_fen bigint not null,
    remark varchar,
    school_code varchar,
    match_method varchar,
    match_confidence double,
    assigned_by varchar,
    assigned_at timestamp,
    import_id bigint
);

create table review_requests (
    request_id bigint not null,
    batch_code varchar not null,
    school_code varchar not null,
    filed_by varchar,
    filed_at timestamp not null,
    source varchar not null default 'form'
);

create table review_items (
    item_id bigint not null,
    request_id bigint not null,
    ticket_no varchar not null,
    reason_type varchar not null,
    reason_text varchar,
    status varchar not null default '已提交',
    decided_by varchar,
    decided_at timestamp,
    decision_note varchar,
    new_version integer
);

create table review_item_events (
    item_id bigint not null,
    event_at timestamp not null,
    actor varchar not null,
    from_status varchar,
    to_status varchar not null,
    note varchar
);

create table signoffs (
    batch_code varchar not null,
    school_code varchar not null,
    party varchar not null,
    signed_by varchar not null,
    signed_at timestamp not null
);

create table users (
    username varchar not null,
    display_name varchar not null,
    role varchar not null,
    school_code varchar,
    email varchar,
    active boolean not null default true,
    password_hash varchar,
    created_at timestamp not null,
    last_login_at timestamp
);

create table login_throttle (
    username varchar not null,
    failures integer not null,
    last_failure_at timestamp not null,
    locked_until timestamp
);

create table import_log (
    import_id bigint not null,
    kind varchar not null,
    file_name varchar not null,
    sha256 varchar not null,
    stored_path varchar,
    batch_code varchar,
    imported_by varchar not null,
    imported_at timestamp not null,
    rows_total bigint not null,
    added bigint not null,
    replaced bigint not null,
    unchanged bigint not null,
    rejected bigint not null,
    warnings bigint not null,
    status varchar not null
);

create table audit_log (
    audit_id bigint not null,
    event_at timestamp not null,
    actor varchar not null,
    action varchar not null,
    target varchar,
    detail varchar
);

-- One row per registration with its attendance and latest score and verdict, rebuilt per batch
-- after every import or correction: page queries read this instead of joining on text keys
-- (13 ms instead of 169 ms for pass rate per school at 1M rows).
create table results (
    batch_code varchar not null,
    id_no varchar not null,
    level varchar not null,
    name varchar not null,
    school_code varchar not null,
    province varchar,
    site_code varchar not null,
    candidate_type varchar not null,
    registered_at timestamp,
    ticket_no varchar,
    attendance_status varchar,
    sat boolean not null,
    score_version integer,
    theory decimal(5, 1),
    practical decimal(5, 1),
    total decimal(5, 1),
    passed boolean,
    verdict_mismatch boolean
);
