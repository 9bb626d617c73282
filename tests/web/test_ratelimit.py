"""The unknown-code limiter: per client, windowed, and holding no address in memory."""

from __future__ import annotations

import time

from survey.web.ratelimit import UnknownCodeLimiter


def test_clients_are_limited_separately_within_a_window() -> None:
    limiter = UnknownCodeLimiter(limit=2, window_seconds=0.3)
    for _ in range(2):
        limiter.record_unknown("192.0.2.1")
    assert limiter.blocked("192.0.2.1") and not limiter.blocked("192.0.2.2")
    time.sleep(0.35)
    assert not limiter.blocked("192.0.2.1")


def test_memory_holds_keyed_hashes_not_addresses() -> None:
    limiter = UnknownCodeLimiter(limit=5)
    limiter.record_unknown("198.51.100.7")
    assert all(b"198.51.100.7" not in key for key in limiter._hits)
    other = UnknownCodeLimiter(limit=5)
    other.record_unknown("198.51.100.7")
    assert set(limiter._hits) != set(other._hits)  # a fresh random key per process


def test_ipv6_clients_count_per_64_and_memory_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import survey.web.ratelimit as rl

    limiter = UnknownCodeLimiter(limit=2)
    limiter.record_unknown("2001:db8:1:2::1")
    limiter.record_unknown("2001:db8:1:2:ffff::9")  # same /64: the same subscriber
    assert limiter.blocked("2001:db8:1:2::77") and not limiter.blocked("2001:db8:1:3::1")
    monkeypatch.setattr(rl, "MAX_CLIENTS", 3)
    for i in range(10):
        limiter.record_unknown(f"192.0.2.{i}")
    assert len(limiter._hits) == 3  # the oldest forgotten, not everyone at once


def test_admitted_attempts_count_at_once_and_a_success_is_forgiven() -> None:
    from survey.web.ratelimit import AddressLimiter

    now = [1000.0]
    limiter = AddressLimiter(limit=3, window_seconds=60, clock=lambda: now[0])
    assert [limiter.admit("192.0.2.5") for _ in range(4)] == [True, True, True, False]
    limiter.forgive("192.0.2.5")  # the last one succeeded
    assert limiter.admit("192.0.2.5") and not limiter.admit("192.0.2.5")
    assert limiter.admit("192.0.2.6")  # another client
    now[0] += 61
    assert limiter.admit("192.0.2.5")
