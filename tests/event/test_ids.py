"""Ids as the contract shows them: a ULID's 26 lower-case Crockford base32 characters
(evt_, cus_, acct_), the same text python-ulid writes, time-ordered within a process."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from gateway.errors import BadRequest
from gateway.event.ids import EVENT_ID_RE, new_event_ids, parse_event_id, public_event_id
from gateway.kit.ids import COMPANY_ID_RE, CUSTOMER_UID_RE, new_company_id, new_customer_uid
from gateway.kit.ulid import ulid_from_text, ulid_text


@given(st.binary(min_size=16, max_size=16))
def test_text_is_python_ulids_and_reads_back(raw: bytes) -> None:
    text = ulid_text(raw)
    assert text == str(ULID.from_bytes(raw)).lower()
    assert ulid_from_text(text) == raw
    assert ulid_from_text(text.upper()) == raw


def test_an_event_id_is_shown_stored_and_parsed_as_one_ulid() -> None:
    stored, shown = new_event_ids(1_790_000_000.123)
    assert EVENT_ID_RE.fullmatch(shown)
    assert public_event_id(stored) == shown
    assert parse_event_id(f" {shown} ") == stored
    assert ULID.from_uuid(stored).milliseconds == 1_790_000_000_123


def test_ids_made_in_one_millisecond_keep_their_order() -> None:
    made = [new_event_ids(1_790_000_000.0) for _ in range(200)]
    assert [shown for _, shown in made] == sorted(shown for _, shown in made)
    assert sorted(stored.bytes for stored, _ in made) == [stored.bytes for stored, _ in made]
    assert len({stored for stored, _ in made}) == 200


def test_new_uids_have_the_contracts_shape() -> None:
    assert CUSTOMER_UID_RE.fullmatch(new_customer_uid())
    assert COMPANY_ID_RE.fullmatch(new_company_id())


@pytest.mark.parametrize("value", ["evt_", "evt_" + "u" * 26, "cus_" + "0" * 26,
                                   "evt_" + "0" * 25, str(uuid.uuid4())])
def test_what_is_not_an_event_id_is_a_bad_request(value: str) -> None:
    with pytest.raises(BadRequest):
        parse_event_id(value)
