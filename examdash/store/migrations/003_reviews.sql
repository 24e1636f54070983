-- Score reviews and certificate sign-offs: the rules "one request per school per batch" and
-- "each party signs once" are checked in examdash/domain/reviews.py inside the write transaction; these
-- indexes make a second writer (another process) fail instead of silently doubling a row.
create unique index review_requests_batch_school on review_requests (batch_code, school_code);
create unique index review_items_request_ticket on review_items (request_id, ticket_no);
create unique index signoffs_batch_school_party on signoffs (batch_code, school_code, party);
