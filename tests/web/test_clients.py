"""Whose request it is (examdash/web/clients.py, examdash.domain.auth.client_key): the socket's peer unless
EXAMDASH_TRUST_PROXY names our proxies; then the N-th X-Forwarded-For entry from the right; anything that is
not an address is one key of its own, never `local`."""

from __future__ import annotations

import pytest

from examdash.domain import auth
from examdash.web import clients


@pytest.mark.parametrize("trust, peer, forwarded, expected", [
    (None, "10.0.0.5", "203.0.113.1", "10.0.0.5"),  # unset: the header is ignored
    (None, None, "203.0.113.1", None),  # Streamlit's loopback (None) stays loopback
    ("1", "10.0.0.5", "198.51.100.1, 203.0.113.8", "203.0.113.8"),  # one proxy: the entry it added
    ("true", "10.0.0.5", "203.0.113.8", "203.0.113.8"),
    ("2", "10.0.0.5", "198.51.100.1, 203.0.113.8, 10.0.0.4", "203.0.113.8"),  # two proxies
    ("2", "10.0.0.5", "203.0.113.8", ""),  # shorter than the chain: unparsable, not the peer
    ("1", "10.0.0.5", None, "10.0.0.5"),  # no header: the peer
])
def test_the_address_is_the_peer_or_the_entry_our_proxies_added(monkeypatch, trust, peer, forwarded, expected):
    if trust is None:
        monkeypatch.delenv("EXAMDASH_TRUST_PROXY", raising=False)
    else:
        monkeypatch.setenv("EXAMDASH_TRUST_PROXY", trust)
    assert clients.address(peer, forwarded) == expected


def test_a_bad_proxy_setting_is_refused_in_chinese(monkeypatch):
    monkeypatch.setenv("EXAMDASH_TRUST_PROXY", "maybe")
    with pytest.raises(ValueError, match="EXAMDASH_TRUST_PROXY"):
        clients.address("10.0.0.5", "203.0.113.1")


@pytest.mark.parametrize("client, key", [
    ("203.0.113.8", "203.0.113.8"), ("203.0.113.8:5123", "203.0.113.8"), ("2001:DB8::1", "2001:db8::1"),
    ("[2001:db8::1]:443", "2001:db8::1"), (None, auth.LOCAL), ("127.0.0.1", auth.LOCAL), ("::1", auth.LOCAL),
    ("", auth.UNPARSED), ("local", auth.UNPARSED), ("unknown", auth.UNPARSED), ("1.2.3.4.5", auth.UNPARSED),
    ("x" * 500, auth.UNPARSED),
])
def test_the_throttle_key_is_the_address_local_only_for_loopback(client, key):
    assert auth.client_key(client) == key


def test_unparsable_clients_are_locked_like_an_address(fresh_db):
    for n in range(auth.CLIENT_MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, f"nobody{n}", "wrong-password-1", client="not-an-address")
    with pytest.raises(auth.AuthError, match="已锁定"):
        auth.authenticate(fresh_db, "staff", "whatever-1", client="still-not-an-address")
