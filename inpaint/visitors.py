"""Who is asking: the person behind a request (a room guest, a signed-in person or an anonymous browser), their
jobs and their batches. Another person's job or batch is answered exactly like a missing one."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from inpaint.models import Batch, InpaintJob
from inpaint.services import owners, rooms, selectors
from inpaint.services.batches import Owner


def room_guest(request: HttpRequest):
    # A room guest (inpaint.room_views.room_join) is looked up once a request: the page, the list and the post ask.
    if not hasattr(request, "room_guest"):
        request.room_guest = rooms.guest_get(request.session)
    return request.room_guest


def visitor_owner(request: HttpRequest) -> Owner:
    """The person a post makes jobs for; an anonymous browser is given its visitor id if it has none yet."""
    guest = room_guest(request)
    anonymous = not request.user.is_authenticated and guest is None
    return Owner(user=request.user, visitor_id=owners.visitor_id_get(request.session, create=True) if anonymous else "",
                 guest=guest)


def visitor_jobs(request: HttpRequest):
    if guest := room_guest(request):
        return selectors.job_list(user=None, visitor_id="", guest=guest)
    if request.user.is_authenticated:
        return selectors.job_list(user=request.user, visitor_id="")
    return selectors.job_list(user=request.user, visitor_id=owners.visitor_id_get(request.session))


def visitor_job(request: HttpRequest, pk) -> InpaintJob:
    job = visitor_jobs(request).filter(pk=pk).first()
    if job is None:
        raise Http404("No such job")
    return job


def visitor_batch(request: HttpRequest, pk) -> Batch:
    guest = room_guest(request)
    if guest is None and not request.user.is_authenticated and not owners.visitor_id_get(request.session):
        raise Http404("No such batch")
    owner = Owner(user=request.user, visitor_id=owners.visitor_id_get(request.session), guest=guest)
    batch = Batch.objects.filter(pk=pk, owner_key=owner.key).select_related("first_job").first()
    if batch is None:
        raise Http404("No such batch")
    return batch
