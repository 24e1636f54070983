-- Room arrangement (编排考场) of a batch at an exam site: the seat of every candidate per level, proposed
-- from the site's registrations and seats, adjusted and locked by staff or the site
-- (examdash/domain/rooms.py writes both tables in one transaction).
create table room_plans (
    batch_code varchar not null,
    site_code varchar not null,
    room_seats integer not null,
    status varchar not null,
    updated_by varchar not null,
    updated_at timestamp not null,
    locked_by varchar,
    locked_at timestamp
);
create table room_seats (
    batch_code varchar not null,
    site_code varchar not null,
    level varchar not null,
    sitting integer not null,
    room varchar not null,
    seat varchar not null,
    ticket_no varchar not null
);
