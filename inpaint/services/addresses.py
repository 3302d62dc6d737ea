"""The address a request really came from, behind reverse proxies that may or may not be ours.

X-Forwarded-For is a list each proxy appends to, and anyone can send one. So it is read only when
INPAINT_BEHIND_PROXY is on and the connection itself comes from a trusted proxy
(INPAINT_TRUSTED_PROXIES), and then from the right: entries added by trusted proxies (nginx, then a
CDN whose ranges are listed) are skipped, and the first address no trusted proxy added is the client's.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.INPAINT_TRUSTED_PROXIES)


def request_client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or what trusted proxies in front of us say they saw."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.INPAINT_BEHIND_PROXY or not _is_trusted_proxy(remote):
        return remote
    hops = [entry.strip() for entry in request.headers.get("X-Forwarded-For", "").split(",") if entry.strip()]
    for hop in reversed(hops):
        if not _is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else remote
