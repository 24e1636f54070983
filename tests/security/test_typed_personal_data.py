"""What a user types is logged only when it has the shape of what the field asks for: an ID number typed
into the ticket field of the room arrangement, the user-name field of the login, a free-text note, or a new
account's name is never kept in clear in the audit log or the request events (nor in a throttle key)."""

from __future__ import annotations

import pytest
from helpers import app_rows, rows, with_check_char

from examdash.domain import auth, fees, ids, rooms
from examdash.store import db

BATCH = "2023-1"
TYPED_ID = with_check_char("11010520050101002")  # a well-formed ID number, as a candidate would type it
MISTYPED_ID = "110105200501010029" if TYPED_ID != "110105200501010029" else "110105200501010028"


def _everything_logged(con) -> str:
    lake = rows(con, "select coalesce(actor, '') || ' ' || coalesce(target, '') || ' ' || coalesce(detail, '') "
                     "from audit_log")
    app = app_rows(con, "select coalesce(actor, '') || ' ' || coalesce(target, '') || ' ' || coalesce(detail, '') "
                        "from request_events")
    keys = app_rows(con, "select key from throttle")
    return "\n".join(str(r[0]) for r in lake + app + keys)


@pytest.mark.parametrize("typed", [TYPED_ID, MISTYPED_ID, TYPED_ID.lower()])
def test_an_id_typed_as_a_login_name_is_not_kept(fresh_db, typed):
    with pytest.raises(auth.AuthError):
        auth.authenticate(fresh_db, typed, "whatever-password-1", client="10.1.1.1")
    logged = _everything_logged(fresh_db)
    assert typed.upper() not in logged.upper()
    assert app_rows(fresh_db, "select actor, target from request_events where action = 'login_failed'") == [
        (auth.UNKNOWN_ACCOUNT, auth.UNKNOWN_ACCOUNT)]


def test_a_real_account_name_is_still_logged_and_its_lock_still_works(fresh_db):
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, "staff", "wrong-password-1", client="10.1.1.2")
    with pytest.raises(auth.AuthError, match="锁定"):
        auth.authenticate(fresh_db, "staff", "wrong-password-1", client="10.1.1.2")
    assert {t for (t,) in app_rows(fresh_db, "select target from request_events")} == {"staff"}
    assert "staff" not in " ".join(k for (k,) in app_rows(fresh_db, "select key from throttle"))  # a digest


def test_an_id_typed_into_the_rooms_ticket_field_is_refused_and_not_kept(fresh_db):
    site = auth.reload_user(fresh_db, "site1")
    rooms.arrange(fresh_db, site, BATCH, site.site_code, 20)
    for typed in (TYPED_ID, MISTYPED_ID):
        with pytest.raises(rooms.RoomError, match="准考证号格式不符") as refused:
            rooms.move(fresh_db, site, BATCH, site.site_code, typed, "01", "01")
        assert typed not in str(refused.value)
    assert TYPED_ID not in _everything_logged(fresh_db) and MISTYPED_ID not in _everything_logged(fresh_db)
    refusals = app_rows(fresh_db, "select detail from request_events where action = 'rooms_refused'")
    assert len(refusals) == 2 and all("准考证号格式不符" in d for (d,) in refusals)


def test_an_id_in_a_free_text_note_is_masked_in_the_audit_log(fresh_db):
    bank_ref = rows(fresh_db, "select bank_ref from payments order by bank_ref limit 1")[0][0]
    school = rows(fresh_db, "select school_code from schools order by school_code limit 1")[0][0]
    fees.assign_payment(fresh_db, bank_ref, school, "staff", note=f"考生 {TYPED_ID} 家长代缴")
    detail = rows(fresh_db, "select detail from audit_log where action = 'assign_payment'")[0][0]
    assert TYPED_ID not in detail and ids.mask_id(TYPED_ID) in detail


def test_an_account_cannot_be_named_with_an_id_number(fresh_db):
    with pytest.raises(auth.AuthError, match="不能是身份证号"):
        auth.create_user(fresh_db, TYPED_ID, "某人", "staff", "Long-enough-pass-1", actor="admin")


@pytest.mark.parametrize("text, kept", [
    ("7777202306200001", True),  # a bank reference (16 digits)
    ("777720230620000123", True),  # an 18-digit bank reference: no region code and birth date where an ID has them
    ("2311001100001", True),  # a ticket
    (f"x{TYPED_ID}y", False),
    (TYPED_ID, False),
])
def test_scrub_masks_id_numbers_only(text, kept):
    assert (ids.scrub(text) == text) is kept
