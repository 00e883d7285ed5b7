"""Emails in the recipient's language, sent through the outbox.

`email_enqueue` stores what to send (templates, context, language); the outbox handler renders
and sends it when the worker runs, so a message is never lost while Redis is down and is stored
once per dedupe key. Sending is at-least-once: a worker that dies after the mail server accepted
a message and before the row is marked done leaves it to another worker, which sends it again.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .models import OutboxMessage
from .outbox import PermanentError, outbox_enqueue

EMAIL_KIND = "email.send"


def email_enqueue(
    *,
    to: str,
    subject_template: str,
    body_template: str,
    context: dict,
    language: str | None = None,
    dedupe_key: str | None = None,
    attachments: list[dict] | None = None,
) -> OutboxMessage:
    """Queue an email. `context` must be JSON-serialisable; templates get `base_url` added.

    `subject_template` and `body_template` are template names (body: plain text; an `.html`
    sibling is attached when it exists). `attachments` hold {"kind": …, "id": …} references that
    a registered attachment loader turns into files at send time.
    """
    return outbox_enqueue(
        kind=EMAIL_KIND,
        payload={
            "to": to,
            "subject_template": subject_template,
            "body_template": body_template,
            "context": context,
            "language": language or settings.LANGUAGE_CODE,
            "attachments": attachments or [],
        },
        dedupe_key=dedupe_key,
    )


ATTACHMENT_LOADERS: dict = {}


def email_attachment_loader(kind: str):
    """Register a function (id) -> (filename, bytes, mimetype) for email attachments of `kind`."""

    def register(func):
        ATTACHMENT_LOADERS[kind] = func
        return func

    return register


def email_send(payload: dict) -> None:
    context = {**payload["context"], "base_url": settings.PORTAL_BASE_URL}
    with translation.override(payload.get("language") or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(payload["subject_template"], context).split())
        body = render_to_string(payload["body_template"], context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[payload["to"]])
    for attachment in payload.get("attachments", []):
        filename, content, mimetype = ATTACHMENT_LOADERS[attachment["kind"]](attachment["id"])
        message.attach(filename, content, mimetype)
    _send(message)


def _send(message: EmailMultiAlternatives) -> None:
    """Send; a recipient the mail server refuses is a permanent failure (no retries)."""
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentError(f"Recipient refused: {error.recipients}") from error


RENDERED_EMAIL_KIND = "email.send_rendered"


def email_enqueue_rendered(*, to: str, subject: str, body: str, dedupe_key: str | None = None) -> OutboxMessage:
    """Queue an email whose text was already rendered in the recipient's language.

    The body is kept as an outbox secret (emptied once sent): a rendered body can hold a link with
    a token, e.g. the password reset.
    """
    return outbox_enqueue(
        kind=RENDERED_EMAIL_KIND, payload={"to": to, "subject": subject}, secrets={"body": body}, dedupe_key=dedupe_key
    )


def email_send_rendered(payload: dict) -> None:
    if "body" not in payload:
        raise PermanentError("The email's text was already cleared (the row had finished)")
    _send(EmailMultiAlternatives(subject=payload["subject"], body=payload["body"], to=[payload["to"]]))
