"""Usernames and emails for tests: look-alike and hidden characters, and the published rules."""

from __future__ import annotations

import string
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st

FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"  # what an IME in fullwidth mode types
KELVIN_SIGN = "\u212a"
RIGHT_TO_LEFT_OVERRIDE = "\u202e"

# Ordinary, look-alike and forbidden characters together: letters of several scripts,
# fullwidth letters and the Kelvin sign (folded by NFKC), controls, bidirectional
# formatting characters, and invisible or space characters.
TRICKY = (
    string.ascii_letters
    + string.digits
    + string.punctuation
    + " éüßøñαβкир"
    + FULLWIDTH_ALICE
    + KELVIN_SIGN
    + "\x00\t\n\x7f\x85\xa0\u061c\u200b\u200e\u200f\u202a\u202e\u2066\u2069\u3000\ufeff"
)
tricky_text = st.text(alphabet=TRICKY, min_size=1, max_size=12)
#: Usernames and emails, well-formed ones and ones made of tricky characters alike.
usernames = st.from_regex(r"[A-Za-z0-9_.-]{1,34}", fullmatch=True) | tricky_text
emails = (
    st.emails()
    | st.builds("{}@{}.{}".format, tricky_text, tricky_text, tricky_text)
    | st.builds("{}@{}".format, tricky_text, tricky_text)
)


def published_rule(document: dict[str, Any], schema: str, field: str) -> Any:
    """A JSON Schema validator of one field as the OpenAPI document publishes it.

    jsonschema-rs reads `pattern` as JSON Schema says (ECMA-262: `$` is the end of the
    value), as schemathesis does, and not as Python's `re` would.
    """
    return jsonschema_rs.validator_for(
        document["components"]["schemas"][schema]["properties"][field]
    )
