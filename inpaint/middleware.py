"""Request guards that act before a view runs: sign-in when the deployment asks for it, and bodies
too large to take refused before they are read."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpResponse
from django.utils.translation import get_language_from_request, gettext, override
from django.utils.html import escape

from inpaint import api
from inpaint.api.answers import ApiRefusal, refusal_answer
from inpaint.services import rooms

# Room for the form's other fields beside a picture and a mask of the upload limit each.
FORM_OVERHEAD_BYTES = 1024 * 1024


# What a room guest may use without an account in login mode: the studio, their own jobs and files.
GUEST_VIEWS = frozenset({
    "studio", "job-create", "picture-preview", "job-detail", "job-cancel", "job-delete", "job-picture",
    "job-mask", "job-picture-editor", "job-result-file", "job-result-editor", "job-result-raw"})


class AccessMiddleware(LoginRequiredMiddleware):
    """With INPAINT_ACCESS=login every page and file for people needs sign-in (Django's own
    LoginRequiredMiddleware); the links the cloud service fetches stay signed, not signed-in
    (their view is marked login_not_required), and a room guest (who joined by the room's link)
    may use the studio and their own jobs, nothing else. With "open" anyone may use the page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if settings.INPAINT_ACCESS != "login":
            return None
        if (not request.user.is_authenticated and request.resolver_match.url_name in GUEST_VIEWS and request.resolver_match.namespace == "inpaint"
                and rooms.guest_get(request.session) is not None):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class BodySizeLimitMiddleware:
    """A request body over what any form of the app can need is answered 413 from its
    Content-Length, before Django reads or spools a byte of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = 2 * settings.INPAINT_MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > limit:
            return self._too_large(request, int(declared))
        return self.get_response(request)

    @staticmethod
    def _too_large(request, declared: int) -> HttpResponse:
        # Answered before LocaleMiddleware runs: the reader's language is looked up here.
        with override(get_language_from_request(request)):
            message = gettext("This upload is %(size).0f MB; a picture may be at most %(limit)d MB. "
                              "Choose a smaller file.") % {
                "size": declared / (1024 * 1024), "limit": settings.INPAINT_MAX_UPLOAD_BYTES // (1024 * 1024)}
            title = gettext("Too large")
        if request.path.startswith("/" + api.PATH_PREFIX):
            # A script reads DashScope's own error shape (inpaint.api).
            return refusal_answer(ApiRefusal(413, "BadRequest.TooLarge", message))
        return HttpResponse(f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}</p>", status=413)
