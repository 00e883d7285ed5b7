"""Emails in the recipient's language, sent through the outbox.

`email_enqueue` stores what to send (templates, context, language); the outbox handler renders
and sends it when the worker runs, so a message is never lost while Redis is down and is sent
once per dedupe key.
"""
from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .models import OutboxMessage
from .outbox import outbox_enqueue, outbox_handler

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


@outbox_handler(EMAIL_KIND)
def email_send(payload: dict) -> None:
    context = {**payload["context"], "base_url": settings.PORTAL_BASE_URL}
    with translation.override(payload.get("language") or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(payload["subject_template"], context).split())
        body = render_to_string(payload["body_template"], context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[payload["to"]])
    for attachment in payload.get("attachments", []):
        filename, content, mimetype = ATTACHMENT_LOADERS[attachment["kind"]](attachment["id"])
        message.attach(filename, content, mimetype)
    message.send()


RENDERED_EMAIL_KIND = "email.send_rendered"


def email_enqueue_rendered(*, to: str, subject: str, body: str, dedupe_key: str | None = None) -> OutboxMessage:
    """Queue an email whose text was already rendered in the recipient's language."""
    return outbox_enqueue(
        kind=RENDERED_EMAIL_KIND, payload={"to": to, "subject": subject, "body": body}, dedupe_key=dedupe_key
    )


@outbox_handler(RENDERED_EMAIL_KIND)
def email_send_rendered(payload: dict) -> None:
    EmailMultiAlternatives(subject=payload["subject"], body=payload["body"], to=[payload["to"]]).send()
