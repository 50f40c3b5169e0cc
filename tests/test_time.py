"""The contract's timestamps (iso_ms): UTC, milliseconds, a Z, for any instant."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from gateway.kit.time import iso_ms, parse_iso

FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                         timezone(timedelta(hours=-8))])


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=ZONES))
def test_any_instant_is_written_in_utc_to_the_millisecond(value: datetime) -> None:
    text = iso_ms(value)
    assert FORMAT.fullmatch(text), text
    exact = value.astimezone(UTC)
    # Milliseconds cut, never rounded: the text never names a later instant.
    assert parse_iso(text) == exact - timedelta(microseconds=exact.microsecond % 1000)


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_a_naive_value_is_taken_as_utc(value: datetime) -> None:
    assert iso_ms(value) == iso_ms(value.replace(tzinfo=UTC))


def test_whole_seconds_and_early_years_keep_the_format() -> None:
    assert iso_ms(datetime(2026, 12, 1, 13, 0, 5, tzinfo=UTC)) == "2026-12-01T13:00:05.000Z"
    assert iso_ms(datetime(2026, 12, 1, 13, 0, 5, 999, tzinfo=UTC)) == "2026-12-01T13:00:05.000Z"
    assert iso_ms(datetime(2026, 12, 1, 13, 0, 5, 123999, tzinfo=UTC)) == "2026-12-01T13:00:05.123Z"
    assert iso_ms(datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)) == "0999-01-02T03:04:05.006Z"
