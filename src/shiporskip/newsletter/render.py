"""Mail bodies and messages: digest and confirmation, built as EmailMessage, never sent here."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import lru_cache

import jinja2

from shiporskip.domain.text import shown
from shiporskip.errors import UserError
from shiporskip.newsletter.digest import Digest

# Bodies are encoded with the SMTP policy (76-column quoted-printable). Headers are then
# written with a 998-column limit: folding a long List-Unsubscribe URL would otherwise turn
# it into RFC 2047 encoded words, which mail clients do not read as a link.
_BODY_POLICY = policy.SMTP
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shiporskip.newsletter", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Maker text and critics' lines reach every subscriber: nothing hidden in them does.
        finalize=shown,
    )


@dataclass(frozen=True, slots=True)
class IssueContent:
    """What is frozen for an issue: subject, the HTML content block and the plain text."""

    subject: str
    preheader: str
    body_html: str
    text: str


def one_line(text: str) -> str:
    """Header-safe text: every line break and control character becomes a space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def render_issue(digest: Digest, base_url: str) -> IssueContent:
    """The issue's HTML content block (shared by mail and archive) and its text part."""
    base = base_url.rstrip("/")
    env = _env()
    body = env.get_template("digest_body.html").render(d=digest, base_url=base)
    text = env.get_template("digest.txt").render(d=digest, base_url=base)
    return IssueContent(one_line(digest.subject), digest.summary, body, text)


def mail_html(content: IssueContent, base_url: str, unsubscribe_url: str | None) -> str:
    """The whole HTML document of a digest mail around the content block."""
    return (
        _env()
        .get_template("digest_mail.html")
        .render(
            subject=content.subject,
            preheader=content.preheader,
            body=content.body_html,
            base_url=base_url.rstrip("/"),
            unsubscribe_url=unsubscribe_url,
        )
    )


def mail_text(content: IssueContent, base_url: str, unsubscribe_url: str | None) -> str:
    """The plain-text part: the issue text plus the footer with the unsubscribe link."""
    base = base_url.rstrip("/")
    footer = f"\n--\nYou get this because you subscribed to the weekly verdicts at {base}/\n"
    if unsubscribe_url:
        footer += f"Unsubscribe in one click: {unsubscribe_url}\n"
    footer += f"Past issues: {base}/newsletter/archive\n"
    return content.text.rstrip("\n") + "\n" + footer


def sender_address(mail_from: str) -> Address:
    """The From address of the mail_from setting, or a UserError naming the setting."""
    try:
        message = EmailMessage(policy=_BODY_POLICY)
        message["From"] = one_line(mail_from)
        addresses = message["From"].addresses
    except (ValueError, IndexError, TypeError):
        addresses = ()
    if len(addresses) != 1 or "@" not in addresses[0].addr_spec:
        raise UserError(
            f"mail_from {mail_from!r} is not one address; set SHIPORSKIP_MAIL_FROM to e.g. "
            "'Weekly verdicts <verdicts@example.com>'"
        )
    address: Address = addresses[0]
    return address


def _message(
    mail_from: str, recipient: str, subject: str, message_id: str | None = None
) -> EmailMessage:
    sender = sender_address(mail_from)
    message = EmailMessage(policy=_BODY_POLICY)
    message["From"] = sender
    message["To"] = Address(addr_spec=recipient)
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id or make_msgid("shiporskip", domain=sender.domain)
    return message


def digest_message(
    content: IssueContent,
    *,
    mail_from: str,
    recipient: str,
    base_url: str,
    unsubscribe_url: str,
    message_id: str | None = None,
) -> EmailMessage:
    """One subscriber's digest mail: text and HTML parts, RFC 8058 one-click unsubscribe.

    `message_id` is given when sending, so a re-sent copy repeats the first one's ID.
    """
    message = _message(mail_from, recipient, content.subject, message_id)
    mailto = sender_address(mail_from).addr_spec
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>, <mailto:{mailto}?subject=unsubscribe>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Id"] = f"Weekly AI tool verdicts <weekly.{sender_address(mail_from).domain}>"
    message["Precedence"] = "bulk"
    message.set_content(mail_text(content, base_url, unsubscribe_url))
    message.add_alternative(mail_html(content, base_url, unsubscribe_url), subtype="html")
    message.policy = WIRE_POLICY
    return message


def confirmation_message(*, mail_from: str, recipient: str, confirm_url: str) -> EmailMessage:
    """The double opt-in mail: one link that confirms the subscription."""
    message = _message(mail_from, recipient, "Confirm your subscription to the weekly verdicts")
    env = _env()
    message.set_content(env.get_template("confirm.txt").render(confirm_url=confirm_url))
    html = env.get_template("confirm_mail.html").render(confirm_url=confirm_url)
    message.add_alternative(html, subtype="html")
    message.policy = WIRE_POLICY
    return message
