"""Function views of a batch: its first post, each further photo, its card, cancel all, retry the failed ones, and
all its results as one streamed ZIP. Each serves the full page, or the card alone when htmx asks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING

from inpaint import decode_bound, visitors
from inpaint.files import archive
from inpaint.forms import BatchForm, JobForm
from inpaint.models import Batch, InpaintJob
from inpaint.services import batches
from inpaint.services.refusals import JobActionRefused
from inpaint.services.scheduling import steps_dispatch
from inpaint.views import form_again, job_request_posted, page_context

# The card shows the newest results of a batch as small previews; the ZIP has them all.
CARD_PREVIEWS = 12
NO_PHOTO_MESSAGE = gettext_noop("Send a photo as base_image.")
# How long a photo sent while every decode slot was busy waits before it is sent again.
BUSY_RETRY_SECONDS = 2


def _card_context(batch: Batch, *, notice: str = "") -> dict:
    jobs = InpaintJob.objects.filter(batch=batch).prefetch_related("results").order_by("-finished_at", "-created_at")
    progress = batches.batch_progress(batch)
    return {"batch": batch, "progress": progress, "notice": notice,
            "finished_jobs": [job for job in jobs if job.status == InpaintJob.Status.SUCCEEDED][:CARD_PREVIEWS]}


def _batch_card(request: HttpRequest, batch: Batch, *, notice: str = "", status: int = 200) -> HttpResponse:
    """The batch's card alone; 286 stops its polling once every photo has come and every job has ended."""
    context = _card_context(batch, notice=notice)
    if context["progress"].finished and status == 200:
        status = HTMX_STOP_POLLING
    response = render(request, "inpaint/batch_card.html", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
def batch_create(request: HttpRequest) -> HttpResponse:
    """The first photo with its mask and the options, and how many photos will follow it."""
    form, batch_form = JobForm(request.POST, request.FILES), BatchForm(request.POST)
    if not batch_form.is_valid():
        form.refuse_unchecked(" ".join(message for errors in batch_form.errors.values() for message in errors))
        return form_again(request, form)
    job_request = job_request_posted(request, form)
    if job_request is None:
        return form_again(request, form)
    upload = form.cleaned_data.get("base_image")
    try:
        batch, steps = batches.batch_create(
            job_request, owner=visitors.visitor_owner(request), photo_count=batch_form.cleaned_data["photo_count"],
            other_shapes=batch_form.cleaned_data["other_shapes"], source_name=upload.name if upload else "")
    except JobActionRefused as refusal:
        form.add_error(None, str(refusal))
        return form_again(request, form)
    steps_dispatch(steps)
    if not request.htmx:
        return redirect("inpaint:batch-detail", pk=batch.pk)
    return _batch_card(request, batch)


@require_POST
def batch_photo_add(request: HttpRequest, pk) -> HttpResponse:
    """One more photo of the batch (``base_image``); the card answers, listing it as skipped if it was not taken."""
    batch = visitors.visitor_batch(request, pk)
    upload = request.FILES.get("base_image")
    if upload is None:
        return HttpResponse(gettext(NO_PHOTO_MESSAGE), status=400, content_type="text/plain; charset=utf-8")
    try:
        with decode_bound.decode_slot_take():
            steps = batches.batch_photo_add(batch, upload, owner=visitors.visitor_owner(request))
    except decode_bound.DecodeBusy as busy:
        response = HttpResponse(str(busy), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    except batches.BatchFull as full:
        # The page stops sending: the batch was cancelled, or has every photo it was started with.
        return HttpResponse(str(full), status=409, content_type="text/plain; charset=utf-8")
    steps_dispatch(steps)
    return _batch_card(request, batch)


@require_GET
@vary_on_headers("HX-Request")
def batch_detail(request: HttpRequest, pk) -> HttpResponse:
    batch = visitors.visitor_batch(request, pk)
    if request.htmx:
        return _batch_card(request, batch)
    return render(request, "inpaint/studio.html",
                  page_context(request, form=JobForm(), job=None) | {"batch_card": _card_context(batch)})


@require_POST
def batch_cancel(request: HttpRequest, pk) -> HttpResponse:
    batch = visitors.visitor_batch(request, pk)
    steps_dispatch(batches.batch_cancel(batch))
    if not request.htmx:
        return redirect("inpaint:batch-detail", pk=batch.pk)
    return _batch_card(request, batch, notice=gettext("Every photo not yet painting was cancelled."))


@require_POST
def batch_retry(request: HttpRequest, pk) -> HttpResponse:
    batch = visitors.visitor_batch(request, pk)
    notice = ""
    try:
        steps_dispatch(batches.batch_retry(batch, owner=visitors.visitor_owner(request)))
    except JobActionRefused as refusal:
        notice = str(refusal)
    if not request.htmx:
        return redirect("inpaint:batch-detail", pk=batch.pk)
    return _batch_card(request, batch, notice=notice)


@require_GET
def batch_download(request: HttpRequest, pk) -> StreamingHttpResponse:
    """Every result of the batch as one ZIP, written while it is sent."""
    batch = visitors.visitor_batch(request, pk)
    jobs = InpaintJob.objects.filter(batch=batch, status=InpaintJob.Status.SUCCEEDED).prefetch_related("results")
    entries = archive.archive_entries(jobs.order_by("source_name", "created_at"))
    response = StreamingHttpResponse(archive.archive_stream(entries), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="inpaint-batch-{str(batch.pk)[:8]}.zip"'
    patch_cache_control(response, private=True, no_store=True)
    return response
