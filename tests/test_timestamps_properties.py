"""Expiry instants: written as naive UTC with microseconds, read back to the same instant."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primer_nb.api.timestamps import as_utc, expiration_text, parse_expiration

WIRE_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")

offsets = st.builds(timezone, st.timedeltas(timedelta(hours=-12), timedelta(hours=14)).map(lambda d: d - d % timedelta(minutes=1)))  # fmt: skip
naive = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1))
aware = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=offsets)


@contextmanager
def local_zone(spec: str) -> Iterator[None]:
    """Run with the process's local time zone set to a POSIX ``TZ`` spec (no tz database needed)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = spec
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset to change the local zone")
@given(naive)
def test_as_utc_takes_a_naive_time_to_be_utc_whatever_the_local_zone(when):
    with local_zone("IST-5:30"):  # naive times are UTC on the wire, never the machine's local time
        result = as_utc(when)
    assert result.tzinfo is UTC
    assert result.replace(tzinfo=None) == when


@given(aware)
def test_as_utc_keeps_the_instant_of_an_aware_time(when):
    result = as_utc(when)
    assert result.tzinfo is UTC
    assert result == when
    assert result.replace(tzinfo=None) == when.replace(tzinfo=None) - when.utcoffset()


@given(aware)
def test_expiration_text_is_naive_utc_with_microseconds(when):
    text = expiration_text(when)
    assert WIRE_FORMAT.match(text), text
    assert datetime.fromisoformat(text) == when.replace(tzinfo=None) - when.utcoffset()
    assert expiration_text(as_utc(when).replace(tzinfo=None)) == text


@given(st.one_of(naive, aware))
def test_parse_expiration_reads_back_what_expiration_text_writes(when):
    instant = as_utc(when)
    text = expiration_text(when)
    for written in (text, text + "Z", text + "+00:00", instant, when):
        parsed = parse_expiration(written)
        assert parsed == instant
        assert parsed.tzinfo is UTC


def test_parse_expiration_reads_other_offsets_and_nothing():
    assert parse_expiration("2025-01-06T14:30:00+02:00") == datetime(2025, 1, 6, 12, 30, tzinfo=UTC)
    assert parse_expiration(None) is None
    assert parse_expiration("") is None


@pytest.mark.parametrize("value", [0, 1736166600, [], b"2025-01-06"])
def test_parse_expiration_refuses_what_is_not_a_date_time(value):
    with pytest.raises(ValueError, match=rf"^not a date-time: {re.escape(repr(value))}$"):
        parse_expiration(value)


@pytest.mark.parametrize("value", ["tomorrow", "2025-13-01T00:00:00"])
def test_parse_expiration_refuses_text_that_is_not_iso_8601(value):
    with pytest.raises(ValueError):
        parse_expiration(value)
