"""Function views of demo rooms: the presenter's pages (staff only), the join link, and the wall.

The join and wall links carry access tokens in their paths, which inpaint.reporting keeps out of logs.
The wall never names a job, a stored file or a remote task: its images are served here by the room's
wall token and each entry's random wall reference, and only as the re-encoded WebP previews (the
original keeps the EXIF and GPS data it was uploaded with).
"""

from __future__ import annotations

import segno
from django.contrib.auth.decorators import login_not_required, user_passes_test
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from inpaint.models import InpaintJob, Room
from inpaint.room_forms import RoomForm
from inpaint.services import addresses, owners, rooms
from inpaint.services.refusals import JobActionRefused
from inpaint.views import FILE_CACHE_SECONDS

# Thirty guests and a projector poll the wall; one second feels live and keeps it to a poll a second.
WALL_POLL = "every 1s"
# Error correction level Q (25 %): a QR code on a projector, shot from the back of a room, still reads.
QR_ERROR = "q"

staff_required = user_passes_test(lambda user: user.is_active and user.is_staff)


@staff_required
@require_http_methods(["GET", "POST"])
def room_list(request: HttpRequest) -> HttpResponse:
    """Every room (any staff member may see them all), and the form that opens a new one."""
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        room, links = rooms.room_create(
            presenter=request.user, name=data["name"], ends_at=form.ends_at(), engines=data["engines"],
            image_cap=data["image_cap"], guest_image_cap=data["guest_image_cap"],
            guest_active_jobs=data["guest_active_jobs"])
        return _links_page(request, room, links)
    return render(request, "inpaint/rooms/room_list.html",
                  {"form": form, "rooms": Room.objects.select_related("presenter")})


def _links_page(request: HttpRequest, room: Room, links: rooms.RoomLinks) -> HttpResponse:
    # Only the tokens' hashes are kept: this answer is the one place the links are shown.
    join_url = request.build_absolute_uri(reverse("inpaint:room-join", args=[links.join_token]))
    wall_url = request.build_absolute_uri(reverse("inpaint:room-wall", args=[links.wall_token]))
    qr = segno.make(join_url, error=QR_ERROR).svg_inline(omitsize=True, border=2, title="QR code of the join link")
    response = render(request, "inpaint/rooms/room_links.html",
                      {"room": room, "join_url": join_url, "wall_url": wall_url, "qr_svg": mark_safe(qr)})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_GET
def room_detail(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room, pk=pk)
    return render(request, "inpaint/rooms/room_detail.html", {
        "room": room, "entries": rooms.wall_entries(room), "counts": rooms.wall_counts(room),
        "guests": room.guests.count(), "images_used": rooms.room_images_used(room)})


@staff_required
@require_POST
def room_links_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room, pk=pk)
    return _links_page(request, room, rooms.room_links_rotate(room))


@staff_required
@require_POST
def room_close(request: HttpRequest, pk: int) -> HttpResponse:
    rooms.room_close(get_object_or_404(Room, pk=pk))
    return redirect("inpaint:room-detail", pk=pk)


@staff_required
@require_POST
def room_entry_hide(request: HttpRequest, pk: int, ref: str) -> HttpResponse:
    """The presenter takes a result off the wall (the guest keeps it)."""
    rooms.wall_entry_hide(get_object_or_404(Room, pk=pk), ref)
    return redirect("inpaint:room-detail", pk=pk)


@staff_required
@require_GET
def room_entry_image(request: HttpRequest, pk: int, ref: str, kind: str) -> FileResponse:
    return _entry_image(rooms.wall_entry_get(get_object_or_404(Room, pk=pk), ref), kind)


@login_not_required  # anyone with the link is a guest, in open and login mode alike
@require_http_methods(["GET", "POST"])
def room_join(request: HttpRequest, token: str) -> HttpResponse:
    """The join link: a page with a Join button; the POST makes the guest (a GET never does, so a
    link preview or a scanner app opening it makes nobody)."""
    room = rooms.room_for_join(token)
    if room is None:
        return render(request, "inpaint/rooms/join_closed.html", status=404)
    if request.method == "GET":
        return render(request, "inpaint/rooms/join.html", {"room": room})
    try:
        guest = rooms.room_join(room, owners.address_network(addresses.request_client_address(request)))
    except JobActionRefused as refusal:
        return render(request, "inpaint/rooms/join.html", {"room": room, "refusal": str(refusal)}, status=429)
    rooms.guest_enter(request.session, guest)
    return redirect("inpaint:studio")


@login_not_required  # read-only, by its own token: the projector signs in as nobody
@require_GET
@vary_on_headers("HX-Request")
def room_wall(request: HttpRequest, token: str) -> HttpResponse:
    """The projector's page: the room's newest results and how many are queued and painting; htmx
    polls its entries every second."""
    room = rooms.room_for_wall(token)
    if room is None:
        raise Http404("This wall link is not valid")
    entries, counts = rooms.wall_entries(room), rooms.wall_counts(room)
    tag = rooms.wall_tag(room, entries, counts)
    if request.htmx and request.headers.get("If-None-Match", "") == tag:
        # Nothing new on the wall since its last poll: the page keeps what it shows, and nothing is rendered.
        return HttpResponseNotModified()
    template = "inpaint/rooms/wall.html#wall-entries" if request.htmx else "inpaint/rooms/wall.html"
    response = render(request, template, {"room": room, "token": token, "entries": entries, "counts": counts,
                                          "poll": WALL_POLL, "wall_tag": tag})
    response["ETag"] = tag
    # Never stored by the browser: its copy would stand in for the wall's own 304.
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_not_required
@require_GET
def room_wall_image(request: HttpRequest, token: str, ref: str, kind: str) -> FileResponse:
    room = rooms.room_for_wall(token)
    if room is None:
        raise Http404("This wall link is not valid")
    return _entry_image(rooms.wall_entry_get(room, ref), kind)


def _entry_image(job: InpaintJob | None, kind: str) -> FileResponse:
    # Only the re-encoded previews, never an original: it keeps the EXIF and GPS data it came with.
    preview = None if job is None else rooms.wall_preview(job, kind)
    if not preview:
        raise Http404("No such picture")
    response = FileResponse(preview.open("rb"), content_type="image/webp")
    patch_cache_control(response, private=True, max_age=FILE_CACHE_SECONDS)
    return response
