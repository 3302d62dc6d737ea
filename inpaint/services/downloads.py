"""Fetching a finished image from the link the service gave, without trusting the link.

The link comes from an answer over the network, so it goes through the one safe fetcher
(inpaint.services.fetcher): https to public addresses only (plain http or a private address only
on the first hop to INPAINT_DOWNLOAD_HOSTS, which is how a stand-in on 127.0.0.1 serves its
results), every redirect checked, a byte cap and one deadline for the whole download.
"""

from __future__ import annotations

from django.conf import settings

from inpaint.services.fetcher import FetchFailed, FetchLimits, FetchRefused, url_fetch

MAX_RESULT_BYTES = 50 * 1024 * 1024

# The names the results service catches: a link that will never give a usable image, and a download
# that failed this time (``status`` is the HTTP status when there was one).
DownloadRefused = FetchRefused
DownloadFailed = FetchFailed


def result_download(url: str) -> bytes:
    """The body behind a result link; raises DownloadRefused or DownloadFailed."""
    return url_fetch(url, FetchLimits(max_bytes=MAX_RESULT_BYTES, seconds=settings.INPAINT_DOWNLOAD_TIMEOUT,
                                      connect_seconds=settings.DASHSCOPE_TIMEOUT[0],
                                      trusted_hosts=frozenset(settings.INPAINT_DOWNLOAD_HOSTS)))
