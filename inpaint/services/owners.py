"""Who a job belongs to: a signed-in person, or an anonymous visitor known by an id in their session
(and counted, for turns and limits, by their address).

The id is the app's own, stored in the session: the session key changes when a person signs in
(and is a live credential, never to be shown), the visitor id does not, so the jobs made before
signing in move to the account then.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from inpaint.models import InpaintJob

VISITOR_SESSION_KEY = "inpaint_visitor"


def visitor_id_get(session, *, create: bool = False) -> str:
    """The visitor's id from the session ("" if none); with ``create``, one is made when missing."""
    visitor_id = session.get(VISITOR_SESSION_KEY) or _legacy_visitor_id(session)
    if create and not visitor_id:
        visitor_id = secrets.token_urlsafe(24)
    if visitor_id and session.get(VISITOR_SESSION_KEY) != visitor_id:
        session[VISITOR_SESSION_KEY] = visitor_id
    return visitor_id


def _legacy_visitor_id(session) -> str:
    # Sessions from before visitor ids filed their jobs under the session key; they keep them.
    key = session.session_key
    return key if key and InpaintJob.objects.filter(owner__isnull=True, visitor_id=key).exists() else ""


def owner_key_for(user, client_address: str) -> str:
    """Whose turn and limits a job counts against: the account, or for an anonymous visitor their
    address, so that a script that drops its cookie on every post is still one person."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{client_address}"


@receiver(user_logged_in, dispatch_uid="inpaint.jobs_move_to_account")
def jobs_move_to_account(sender, request, user, **kwargs) -> None:
    """Jobs made anonymously in this browser become the account's when the person signs in."""
    visitor_id = request.session.get(VISITOR_SESSION_KEY) if request is not None else None
    if visitor_id:
        InpaintJob.objects.filter(owner__isnull=True, visitor_id=visitor_id).update(
            owner=user, owner_key=owner_key_for(user, ""))
