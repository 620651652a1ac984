"""Email addresses: strict validation and one normal form, before anything is stored or mailed.

Deliberately narrower than RFC 5321: one plain ASCII dot-atom address, no display name, no
quoted local part, no IP-literal domain. Anything that could smuggle a second recipient or
a header (line breaks, commas, angle brackets, quotes) is refused with a sentence that says
what is wrong, never echoing the raw input back.
"""

from __future__ import annotations

import re

from shiporskip.errors import UserError

MAX_ADDRESS = 254
MAX_LOCAL = 64
MAX_LABEL = 63

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_{|}~-]"
_LOCAL = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LISTS = re.compile(r"[,;]")
_BRACKETS = re.compile(r"[<>()\[\]\\\"]")


class InvalidEmail(UserError):
    """An address the newsletter refuses to store or mail."""


def _refuse(reason: str) -> InvalidEmail:
    return InvalidEmail(f"that is not a valid email address: {reason}")


def _check_characters(text: str) -> None:
    if _CONTROL.search(text):
        raise _refuse("it contains a line break or another control character")
    if not text.isascii():
        raise _refuse(
            "it contains characters outside plain ASCII; write an international domain "
            "in its xn-- form"
        )
    if _LISTS.search(text):
        raise _refuse("enter one address only, without commas or semicolons")
    if _BRACKETS.search(text):
        raise _refuse("enter just the address, without a name, quotes or brackets")
    if any(ch.isspace() for ch in text):
        raise _refuse("it contains a space")


def _check_domain(domain: str) -> str:
    domain = domain.lower()
    if len(domain) > 253:
        raise _refuse("the domain is longer than 253 characters")
    labels = domain.split(".")
    if len(labels) < 2:
        raise _refuse(f"the domain {domain!r} needs a dot, as in example.com")
    for label in labels:
        if not label:
            raise _refuse("the domain has an empty part (two dots in a row, or a trailing dot)")
        if len(label) > MAX_LABEL or not _LABEL.fullmatch(label):
            raise _refuse(f"the domain part {label[:MAX_LABEL]!r} is not a valid host name")
    if not _TLD.fullmatch(labels[-1]):
        raise _refuse(f"the domain ends in {labels[-1]!r}, which is not a top-level domain")
    return domain


def normalise_email(raw: object) -> str:
    """The address with its domain lower-cased, or InvalidEmail saying what is wrong."""
    if not isinstance(raw, str):
        raise _refuse("it must be text")
    # Only spaces around the address are forgiven: a trailing CR/LF is an injection attempt.
    text = raw.strip(" ")
    if not text:
        raise _refuse("it is empty")
    if len(text) > MAX_ADDRESS:
        raise _refuse(f"it is longer than {MAX_ADDRESS} characters")
    _check_characters(text)
    if text.count("@") != 1:
        raise _refuse("it must contain exactly one @")
    local, domain = text.split("@")
    if not local:
        raise _refuse("the part before the @ is empty")
    if len(local) > MAX_LOCAL:
        raise _refuse(f"the part before the @ is longer than {MAX_LOCAL} characters")
    if not _LOCAL.fullmatch(local):
        raise _refuse("the part before the @ has a misplaced dot or a character mail cannot carry")
    return f"{local}@{_check_domain(domain)}"


def email_key(address: str) -> str:
    """The identity of an address: lower-cased, so one person cannot subscribe twice by case."""
    return address.lower()


def mask_email(address: str) -> str:
    """An address safe to log: 'al***@example.com'."""
    local, _, domain = address.partition("@")
    return f"{local[:2]}***@{domain}"
