"""Address validation: one plain address, nothing that could carry a header or a recipient."""

from __future__ import annotations

import pytest

from shiporskip.newsletter.addresses import InvalidEmail, email_key, mask_email, normalise_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("reader@example.com", "reader@example.com"),
        ("Reader.Name+tag@Example.COM", "Reader.Name+tag@example.com"),
        ("  spaced@example.org ", "spaced@example.org"),
        ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("a@b-c.io", "a@b-c.io"),
    ],
)
def test_valid_addresses_keep_the_local_part_and_lower_case_the_domain(
    raw: str, expected: str
) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a@b.com\r\nBcc: x@y.com", "line break"),
        ("a@b.com\nBcc: x@y.com", "line break"),
        ("a@b.com\r\n", "line break"),
        ("a@b.com\x00", "control character"),
        ("a@b.com, c@d.com", "one address only"),
        ("a@b.com;c@d.com", "one address only"),
        ("Name <a@b.com>", "without a name"),
        ('"quoted"@b.com', "without a name"),
        ("a@[127.0.0.1]", "without a name"),
        ("a b@c.com", "space"),
        ("a@b.com\t", "control character"),
        ("ａ@example.com", "ASCII"),  # fullwidth letter
        ("a＠example.com", "ASCII"),  # fullwidth at sign
        ("a@exam\u200bple.com", "ASCII"),  # zero-width space
        ("a@example.com\u202e", "ASCII"),  # right-to-left override
        ("pаypal@example.com", "ASCII"),  # Cyrillic а
        ("x" * 65 + "@example.com", "longer than 64"),
        ("a@" + "b" * 250 + ".com", "longer than 254"),
        ("a@" + "b" * 64 + ".com", "not a valid host name"),
        ("", "empty"),
        ("   ", "empty"),
        ("no-at-sign.example.com", "exactly one @"),
        ("a@b@c.com", "exactly one @"),
        ("@example.com", "before the @ is empty"),
        (".a@example.com", "misplaced dot"),
        ("a..b@example.com", "misplaced dot"),
        ("a.@example.com", "misplaced dot"),
        ("a`b@example.com", "character mail cannot carry"),
        ("a@localhost", "needs a dot"),
        ("a@example..com", "empty part"),
        ("a@example.com.", "empty part"),
        ("a@-example.com", "not a valid host name"),
        ("a@example.c0m", "not a top-level domain"),
        ("a@example.1", "not a top-level domain"),
    ],
)
def test_invalid_addresses_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidEmail) as info:
        normalise_email(raw)
    message = str(info.value)
    assert message.startswith("that is not a valid email address: ")
    assert reason in message
    assert "\n" not in message and "\r" not in message and "Bcc" not in message


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidEmail, match="must be text"):
        normalise_email(["a@b.com"])


def test_identity_ignores_case_and_logs_are_masked() -> None:
    assert email_key("Reader@Example.com") == email_key("reader@example.com")
    assert mask_email("reader@example.com") == "re***@example.com"
