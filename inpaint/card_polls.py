"""The job card's poll answered in front of Django when nothing changed.

Thirty phones and the wall poll every second, and almost every poll finds its card as it was. A full pass
through Django (session, sign-in, CSRF and CSP middleware, the view, the template) costs several times what
the answer "unchanged" needs, so a poll that sends back its card's tag (inpaint.services.cards) is checked
here with one query and answered 304; any other request, and any tag that is not current, goes on to Django
as before. The answer carries no body and no cookie, so it tells nothing to anyone but the page that holds
the tag.
"""

from __future__ import annotations

import re
import uuid

from django.db import close_old_connections

from inpaint.services import cards

# inpaint.urls: "jobs/<uuid:pk>/", below the site's root (webapp.urls).
CARD_PATH = re.compile(r"^/jobs/(?P<pk>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/$")
UNCHANGED_HEADERS = [("Cache-Control", "private, no-store"), ("Content-Length", "0")]


class CardPollShortcut:
    """WSGI middleware: a card poll whose tag is current gets 304 at once."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        match = CARD_PATH.match(environ.get("PATH_INFO", ""))
        tag = environ.get("HTTP_IF_NONE_MATCH", "")
        if match and tag and environ.get("REQUEST_METHOD") == "GET" and environ.get("HTTP_HX_REQUEST") == "true":
            pk = uuid.UUID(match["pk"])
            # Django opens and closes database connections around each request it handles; the same here.
            close_old_connections()
            try:
                current = cards.card_tag_current(pk, tag)
            finally:
                close_old_connections()
            if current:
                start_response("304 Not Modified", [("ETag", tag), *UNCHANGED_HEADERS])
                return [b""]
        return self.application(environ, start_response)
