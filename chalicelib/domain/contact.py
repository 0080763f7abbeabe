"""How people are written to and called: the languages emails are written in, phone numbers,
and text that must print on one page (no control characters)."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

# The languages the service writes emails in (chalicelib/services/email_wording.py has each).
Language = Literal["en", "fr"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def e164(value: str) -> str:
    """A phone number in E.164 form ('+33 6 12 34 56 78' -> '+33612345678'), or ValueError."""
    compact = re.sub(r"[\s().-]", "", value)
    if not _E164.match(compact):
        raise ValueError("must be an international number in E.164 form, e.g. +33612345678")
    return compact


def mailable(address: str) -> str:
    """`address` unchanged, or ValueError when its local part (before the @) is not ASCII:
    the mail service (SES) delivers only to ASCII local parts (domains may be international)."""
    local = address.rpartition("@")[0]
    if not local.isascii():
        raise ValueError(
            "the part before the @ must be plain ASCII letters, digits or punctuation: "
            "email to other addresses cannot be delivered"
        )
    return address


def no_control_characters(value: str, *, allow_newlines: bool) -> str:
    """`value` unchanged, or ValueError naming the first control character in it."""
    allowed = {"\n", "\t", "\r"} if allow_newlines else set()
    for char in value:
        if unicodedata.category(char) == "Cc" and char not in allowed:
            raise ValueError(f"must not contain control characters (found U+{ord(char):04X})")
    return value
