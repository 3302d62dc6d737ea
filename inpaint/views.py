"""Function views: each serves the full page, or only its partial when htmx asks."""

from __future__ import annotations

import mimetypes
from functools import partial

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import condition, require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING, reswap, retarget, trigger_client_event

from inpaint import decode_bound, images, options, visitors
from inpaint.services import (
    addresses, cards, floods, job_requests, jobs, links, owners, resend, retention, rooms, selectors, usage)
from inpaint.services.refusals import JobActionRefused, JobRequestRefused
from inpaint.services.scheduling import steps_dispatch
from inpaint.engines import engines_listed
from inpaint.files import serving
from inpaint.forms import JobForm
from inpaint.models import InpaintJob

HISTORY_LENGTH = 30
# Photos offered to people who brought none (static/inpaint/samples/, licences in LICENSE.txt there).
SAMPLE_PICTURES = [
    {"key": key, "label": label, "name": f"sample-{key}.jpg", "path": f"inpaint/samples/{key}.jpg",
     "thumb": f"inpaint/samples/thumb-{key}.jpg"}
    for key, label in (("coffee", _("A cup of coffee")), ("cat", _("A cat")),
                       ("rocket", _("A rocket on its launch pad")), ("astronaut", _("An astronaut")))
]
# A job's files never change; the owner's browser may keep them (private: never a shared cache).
FILE_CACHE_SECONDS = 3600
# The query of job_result_part: the box of the result asked for, in its own pixels.
PART_BOX = ("left", "top", "right", "bottom")


def page_context(request: HttpRequest, *, form: JobForm, job: InpaintJob | None) -> dict:
    visitor_jobs, guest = visitors.visitor_jobs(request), visitors.room_guest(request)
    engines = rooms.room_engines(guest.room) if guest else engines_listed()
    return {
        "form": form,
        "job": job,
        "jobs": visitor_jobs.prefetch_related("results")[:HISTORY_LENGTH],
        "engines": engines,
        "options": options.options_for_page(engines, gettext),
        "room_guest": guest,
        "room_images_left": rooms.room_images_left(guest) if guest else None,
        "samples": SAMPLE_PICTURES,
        "picture_limits": _picture_limits(),
        "batch_limits": {"aspect_tolerance": images.MASK_ASPECT_TOLERANCE,
                         "max_photos": settings.INPAINT_BATCH_MAX_PHOTOS},
        "retention_days": settings.INPAINT_RETENTION_DAYS,
        "images_this_month": usage.usage_images_this_month(jobs=visitor_jobs),
        "images_left": usage.usage_images_left(visitor_jobs),
    }


def _picture_limits() -> dict:
    return {"min_side": settings.INPAINT_MIN_SIDE, "max_pixels": settings.INPAINT_MAX_PIXELS,
            "max_bytes": settings.INPAINT_MAX_UPLOAD_BYTES,
            "max_megabytes": settings.INPAINT_MAX_UPLOAD_BYTES // (1024 * 1024),
            "max_megapixels": f"{settings.INPAINT_MAX_PIXELS / 1e6:g}"}


def _card_context(job: InpaintJob) -> dict:
    card = cards.card_read(job.pk)
    return {"job": job, "card_tag": card.tag, "estimate": card.estimate, "queue_position": card.queue_position,
            "upscale_factors": options.UPSCALE_FACTORS}


@require_GET
@vary_on_headers("HX-Request")
def studio(request: HttpRequest) -> HttpResponse:
    # The page refreshes its history list alone when a job ends.
    template = "inpaint/studio.html#job-history" if request.htmx.target == "job-history" else "inpaint/studio.html"
    if not request.user.is_authenticated and not visitors.room_guest(request):
        # The visitor is made with the page, so the first posts of a new browser (a double-click,
        # two tabs) already share one session and both belong to this visitor.
        owners.visitor_id_get(request.session, create=True)
    return render(request, template, page_context(request, form=JobForm(), job=None))


def form_again(request: HttpRequest, form: JobForm) -> HttpResponse:
    if not request.htmx:
        return render(request, "inpaint/studio.html", page_context(request, form=form, job=None))
    # Status 200, aimed at the form's place instead of the job card's, so htmx swaps the messages in there.
    response = render(request, "inpaint/studio.html#job-form", page_context(request, form=form, job=None))
    return reswap(retarget(response, "#form-slot"), "innerHTML")


def _job_card(request: HttpRequest, job: InpaintJob, *, ended_here: bool, notice: str = "") -> HttpResponse:
    """The job card alone. 286 tells htmx to stop polling once the job has ended; a job that ended
    while this card watched it also changes the history's thumbnail and status, so the page is told
    to refresh that (hx-trigger="job-finished from:body"). A card opened from the history is not."""
    context = _card_context(job)
    response = render(request, "inpaint/studio.html#job-card", context | {"notice": notice},
                      status=HTMX_STOP_POLLING if job.is_final else 200)
    # The card polls with its tag (If-None-Match) and is answered 304 while it holds (inpaint.card_polls);
    # never stored by the browser, whose cached copy would stand in for a 304 with a stale clock.
    response["ETag"] = context["card_tag"]
    patch_cache_control(response, private=True, no_store=True)
    if job.is_final and ended_here:
        trigger_client_event(response, "job-finished")
    return response


@require_POST
def job_create(request: HttpRequest) -> HttpResponse:
    form = JobForm(request.POST, request.FILES)
    job_request = job_request_posted(request, form)
    if job_request is None:
        return form_again(request, form)
    owner = visitors.visitor_owner(request)
    try:
        job, steps = jobs.job_create(job_request, user=owner.user, visitor_id=owner.visitor_id, guest=owner.guest)
    except JobActionRefused as refusal:
        form.add_error(None, str(refusal))
        return form_again(request, form)
    steps_dispatch(steps)
    if not request.htmx:
        return redirect("inpaint:job-detail", pk=job.pk)
    context = page_context(request, form=form, job=job) | _card_context(job) | {"notes": job_request.base.notes}
    return render(request, "inpaint/job_created.html", context)


def job_request_posted(request: HttpRequest, form: JobForm) -> job_requests.JobRequest | None:
    """The job a post asks for (a single job, or a batch's first photo); None when it cannot stand, the reasons
    then on the form. Flood limits come first: a refused post costs no decoding of its pictures."""
    owner = visitors.visitor_owner(request)
    network = owners.address_network(addresses.request_client_address(request))
    try:
        floods.network_job_rate_check(network)
        if owner.visitor_id:
            floods.visitor_arrival_check(owner.visitor_id, network)
    except JobActionRefused as refusal:
        form.refuse_unchecked(str(refusal))
        return None
    try:
        with decode_bound.decode_slot_take():
            return _job_request_make(request, form)
    except decode_bound.DecodeBusy as busy:
        form.refuse_unchecked(str(busy))
        return None


def _job_request_make(request: HttpRequest, form: JobForm) -> job_requests.JobRequest | None:
    """The job the post asks for; None when it cannot stand, each reason then on the form beside its field.

    The pictures are checked even when another field is wrong, so the person reads every reason at once.
    """
    valid = form.is_valid()
    if not job_requests.REQUEST_FIELDS <= form.cleaned_data.keys():
        return None
    try:
        job_request = job_requests.job_request_make(form.cleaned_data, owned_jobs=visitors.visitor_jobs(request))
    except JobRequestRefused as refusal:
        for field, message in refusal.errors.items():
            form.add_error(field, message)
        return None
    return job_request if valid else None


@require_GET
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, pk) -> HttpResponse:
    job = visitors.visitor_job(request, pk)
    if request.htmx and cards.card_tag_current(job.pk, request.headers.get("If-None-Match", "")):
        # What inpaint.card_polls answers in front of Django; here too, for a server without it.
        return HttpResponseNotModified()
    if request.htmx:
        # Only the polling card names itself as the trigger (its id); a history link has none.
        return _job_card(request, job, ended_here=request.htmx.trigger == f"job-{job.pk}")
    return render(request, "inpaint/studio.html", page_context(request, form=JobForm(), job=job) | _card_context(job))


@require_POST
def job_cancel(request: HttpRequest, pk) -> HttpResponse:
    job = visitors.visitor_job(request, pk)
    notice = ""
    try:
        steps_dispatch(jobs.job_cancel(job))
    except JobActionRefused as refusal:
        notice = str(refusal)
    job.refresh_from_db()
    if not request.htmx:
        return redirect("inpaint:job-detail", pk=job.pk)
    return _job_card(request, job, ended_here=True, notice=notice)


@require_POST
def job_send_again(request: HttpRequest, pk) -> HttpResponse:
    """The person sends a job in doubt again, knowing it may be billed twice: its card becomes the new job's."""
    job, owner = visitors.visitor_job(request, pk), visitors.visitor_owner(request)
    try:
        floods.network_job_rate_check(owners.address_network(addresses.request_client_address(request)))
        job, steps = resend.job_send_again(job, user=owner.user, visitor_id=owner.visitor_id, guest=owner.guest)
    except JobActionRefused as refusal:
        if not request.htmx:
            return redirect("inpaint:job-detail", pk=job.pk)
        return _job_card(request, job, ended_here=False, notice=str(refusal))
    steps_dispatch(steps)
    if not request.htmx:
        return redirect("inpaint:job-detail", pk=job.pk)
    return _job_card(request, job, ended_here=False)


@require_POST
def job_delete(request: HttpRequest, pk) -> HttpResponse:
    """The owner deletes a job and its files; the card goes, and the history follows."""
    job = visitors.visitor_job(request, pk)
    try:
        steps_dispatch(retention.job_delete(job))
    except JobActionRefused as refusal:
        if not request.htmx:
            return redirect("inpaint:job-detail", pk=job.pk)
        return _job_card(request, job, ended_here=False, notice=str(refusal))
    if not request.htmx:
        return redirect("inpaint:studio")
    # Deleted from its card or from the history: the history refreshes, and the page drops the
    # job's card if it shows it (static/inpaint/job-cards.js).
    response = trigger_client_event(HttpResponse(""), "job-finished")
    return trigger_client_event(response, "job-deleted", {"id": str(pk)})


def _file_etag(request: HttpRequest, pk, kind: str, slot: int | None = None, *, for_editor: bool = False) -> str:
    return serving.job_file_etag(visitors.visitor_job(request, pk), kind, slot, for_editor=for_editor,
                                 preview="preview" in request.GET, file_format=request.GET.get("format", "own"))


@require_GET
@condition(etag_func=_file_etag)
def job_file(request: HttpRequest, pk, kind: str, slot: int | None = None) -> FileResponse:
    """A job's picture, mask, finished result (PNG, or JPEG with ?format=jpeg) or model output; ?preview
    serves the small JPEG the page shows, ?download makes it an attachment."""
    job = visitors.visitor_job(request, pk)
    try:
        stream, filename = serving.job_file_download_open(job, kind, slot, preview="preview" in request.GET,
                                                          as_jpeg=request.GET.get("format") == "jpeg")
    except serving.NoSuchFile:
        raise Http404("No such image") from None
    content_type, as_attachment = mimetypes.guess_type(filename)[0], "download" in request.GET
    if url := links.download_link_create(stream.name, filename=filename, content_type=content_type,
                                         as_attachment=as_attachment):
        stream.close()
        return redirect(url)
    response = FileResponse(stream, as_attachment=as_attachment, filename=filename, content_type=content_type)
    patch_cache_control(response, private=True, max_age=FILE_CACHE_SECONDS)
    return response


def _refused(message: str, status: int = 400) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    if status != 400:
        response["Retry-After"] = str(decode_bound.RETRY_AFTER_SECONDS)
    return response


@require_POST
def picture_preview(request: HttpRequest) -> HttpResponse:
    """The picture in field ``picture`` as an upright JPEG of at most 4096 px a side, for the editor to
    paint on (browsers cannot show HEIC or TIFF, nor should they decode 48 MP in full), with the full
    upright size in X-Picture-Width and X-Picture-Height; or 400 with the refusal in plain words."""
    upload = request.FILES.get("picture")
    if upload is None:
        return _refused(gettext("Choose a picture to open."))
    limits = {"max_bytes": settings.INPAINT_MAX_UPLOAD_BYTES, "max_pixels": settings.INPAINT_MAX_PIXELS}
    try:
        floods.network_preview_rate_check(owners.address_network(addresses.request_client_address(request)))
        # Before reading: a file over the limit is never taken into memory.
        images.check_file_size(upload.size, what="picture", max_bytes=limits["max_bytes"])
        with decode_bound.decode_slot_take():
            proxy = images.picture_preview(upload.read(), max_side=options.PROXY_MAX_SIDE, **limits)
    except images.ImageRefused as refusal:
        return _refused(str(refusal))
    except JobActionRefused as refusal:
        return _refused(str(refusal), status=429)
    except decode_bound.DecodeBusy as busy:
        return _refused(str(busy), status=503)
    return _editor_picture(*proxy)


@require_GET
@condition(etag_func=partial(_file_etag, for_editor=True))
def job_file_for_editor(request: HttpRequest, pk, kind: str, slot: int | None = None) -> HttpResponse:
    """A job's picture or finished result as picture_preview answers for an upload, for the editor to take
    as a new base without the browser downloading (or sending back) a file larger than any upload may be."""
    job = visitors.visitor_job(request, pk)

    def proxy(data: bytes) -> bytes:
        return images.picture_preview(data, max_side=options.PROXY_MAX_SIDE, max_bytes=len(data),
                                      max_pixels=settings.INPAINT_MAX_PIXELS)[0]

    try:
        floods.network_preview_rate_check(owners.address_network(addresses.request_client_address(request)))
        stream, width, height = serving.job_editor_proxy_open(job, kind, slot, proxy)
    except serving.NoSuchFile:
        raise Http404("No such file") from None
    except JobActionRefused as refusal:
        return _refused(str(refusal), status=429)
    except decode_bound.DecodeBusy as busy:
        return _refused(str(busy), status=503)
    with stream:
        response = _editor_picture(stream.read(), width, height)
    patch_cache_control(response, private=True, max_age=FILE_CACHE_SECONDS)
    return response


@require_GET
@condition(etag_func=lambda request, pk, slot: f"{pk}-result-{slot}-part-" + "-".join(
    request.GET.get(name, "") for name in PART_BOX))
def job_result_part(request: HttpRequest, pk, slot: int) -> HttpResponse:
    """A part of a finished result at its own pixels, as a PNG (?left=&top=&right=&bottom=): what the canvas shows
    of a result over the editor's proxy side at 100 % and beyond, without the whole file going to the browser."""
    job = visitors.visitor_job(request, pk)
    try:
        box = tuple(int(request.GET[name]) for name in PART_BOX)
    except (KeyError, ValueError):
        return _refused(gettext("Say which part of the result to show, in whole pixels."))
    try:
        with decode_bound.decode_slot_take():
            part = serving.job_result_part_read(job, slot, box, max_side=options.TILE_MAX_SIDE)
    except serving.NoSuchFile:
        raise Http404("No such image") from None
    except serving.BadPart as refusal:
        return _refused(str(refusal))
    except decode_bound.DecodeBusy as busy:
        return _refused(str(busy), status=503)
    response = HttpResponse(part, content_type="image/png")
    patch_cache_control(response, private=True, max_age=FILE_CACHE_SECONDS)
    return response


def _editor_picture(jpeg: bytes, width: int, height: int) -> HttpResponse:
    # The proxy the editor paints on, with the full picture's upright size (static/inpaint/picture.js).
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["X-Picture-Width"] = str(width)
    response["X-Picture-Height"] = str(height)
    return response


@login_not_required  # the cloud service fetches it: signed and expiring, never signed-in
@require_GET
def media_link(request: HttpRequest, token: str, filename: str) -> FileResponse:
    """The signed, expiring link through which the cloud service fetches a picture or mask."""
    name = links.media_link_resolve(token)
    if name is None or not name.endswith("/" + filename):
        raise Http404("This link has expired or is not valid")
    if not default_storage.exists(name):
        raise Http404("No such file")
    return FileResponse(default_storage.open(name, "rb"), content_type=mimetypes.guess_type(name)[0])
