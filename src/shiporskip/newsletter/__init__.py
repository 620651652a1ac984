"""The newsletter: double opt-in subscribers, the weekly digest, and at-least-once sending.

The weekly job calls `send_digest(runtime)`; the CLI and the web routes use the rest.
"""

from shiporskip.newsletter.addresses import InvalidEmail, normalise_email
from shiporskip.newsletter.campaign import SendReport, send_digest
from shiporskip.newsletter.digest import Digest, build_digest
from shiporskip.newsletter.issues import IssueStore
from shiporskip.newsletter.subscribers import SubscriberStore
from shiporskip.newsletter.weeks import IsoWeek, parse_week, resolve_week

__all__ = [
    "Digest",
    "InvalidEmail",
    "IsoWeek",
    "IssueStore",
    "SendReport",
    "SubscriberStore",
    "build_digest",
    "normalise_email",
    "parse_week",
    "resolve_week",
    "send_digest",
]
