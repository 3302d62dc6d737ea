"""Keeping secrets out of error reports and logs.

Django's own filter steps aside when DEBUG is true, so its debug page would show the local
variables of the DashScope client's call, the Authorization header among them. The filter here
keeps cleansing the variables marked with ``sensitive_variables`` and the settings whose names
look secret, whatever DEBUG says. The access tokens in paths (the signed links the cloud service
fetches files with, a room's join and wall links, the gateway's result links) are replaced in every log line (Django's "Not
Found" warnings, gunicorn's access log).
"""

from __future__ import annotations

import logging
import re

from django.views.debug import SafeExceptionReporterFilter

LINK_TOKEN = re.compile(r"/(links|rooms/join|rooms/wall|api/v1/results)/[^/\s\"?]+(/|$|(?=[\s\"?]))")
HIDDEN_TOKEN = r"/\1/[token]\2"


def link_tokens_hidden(text: str) -> str:
    return LINK_TOKEN.sub(HIDDEN_TOKEN, text)


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True


class LinkTokensHidden(logging.Filter):
    """A logging filter that rewrites any signed-link token in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = link_tokens_hidden(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
