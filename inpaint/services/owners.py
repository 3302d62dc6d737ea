"""Who a job belongs to: a signed-in person, or an anonymous visitor known by an id in their own
browser session. A person is a person, not an address: thirty phones behind one Wi-Fi are thirty
visitors, each with their own jobs in progress, turn in the queue and monthly cap. The address
carries only flood limits (inpaint.services.floods).

The id is the app's own, stored in the session: the session key changes when a person signs in
(and is a live credential, never to be shown), the visitor id does not, so the jobs made before
signing in move to the account then. The page makes the id when it is served, so two posts a new
browser sends at once (a double-click, two tabs) carry the same session and both belong to it.
"""

from __future__ import annotations

import ipaddress
import secrets

from inpaint.models import Batch, InpaintJob

VISITOR_SESSION_KEY = "inpaint_visitor"
# An IPv6 visitor may take a fresh address for every request from their /64; it counts as one network.
IPV6_NETWORK_PREFIX = 64


def visitor_id_get(session, *, create: bool = False) -> str:
    """The visitor's id from the session ("" if none); with ``create``, one is made when missing."""
    visitor_id = session.get(VISITOR_SESSION_KEY, "")
    if create and not visitor_id:
        visitor_id = secrets.token_urlsafe(24)
    if visitor_id and session.get(VISITOR_SESSION_KEY) != visitor_id:
        session[VISITOR_SESSION_KEY] = visitor_id
    return visitor_id


def owner_key_for(user, visitor_id: str) -> str:
    """Whose turn and limits a job counts against: the account, or the anonymous visitor."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"visitor:{visitor_id}"


def address_network(address: str) -> str:
    """The network a client address stands for in flood limits: the address itself for IPv4, its /64
    for IPv6 (one household or phone gets a whole /64 and may use a new address for every request)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/{IPV6_NETWORK_PREFIX}", strict=False))


def jobs_move_to_account(sender, request, user, **kwargs) -> None:
    """user_logged_in (connected in inpaint.apps): jobs made anonymously in this browser become the account's
    when the person signs in."""
    visitor_id = request.session.get(VISITOR_SESSION_KEY) if request is not None else None
    if visitor_id:
        InpaintJob.objects.filter(owner__isnull=True, visitor_id=visitor_id).update(
            owner=user, owner_key=owner_key_for(user, visitor_id))
        Batch.objects.filter(owner_key=owner_key_for(None, visitor_id)).update(owner_key=owner_key_for(user, visitor_id))
