"""Links with nothing to unquote (every link the gateway issues) are split without
parse_qsl; the answer must be parse_qsl's, refusals included."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from gateway.signing.link import _plain_pairs

QUERIES = [
    "company=acct_1&customer=cus_1&expires=1&signature=ab",
    "company=acct_1&customer=cus_1&expires=1&signature=",
    "a=1&&b=2", "a=1&", "&a=1", "a", "a=1&b", "=1", "a==1", "a=1=2",
    "company=x&company=y", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8",
    "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", "a=1;b=2", "",
]


def outcome(split: object, query: str) -> object:
    try:
        return split(query)  # type: ignore[operator]
    except ValueError:
        return "refused"


@pytest.mark.parametrize("query", QUERIES)
def test_plain_links_split_as_parse_qsl_splits_them(query: str) -> None:
    def reference(text: str) -> list[tuple[str, str]]:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=8)

    assert outcome(_plain_pairs, query) == outcome(reference, query)
