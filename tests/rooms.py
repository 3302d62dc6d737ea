"""What the room tests share: a room opened by a staff member, a guest's job made through the real
job_create, and a finished wall entry with its previews stored."""

from __future__ import annotations

import datetime
import io

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from inpaint.models import InpaintJob, JobResult, Room, RoomGuest
from inpaint.services import rooms
from tests.pictures import picture
from tests.services.fakes import job_create_sent, job_request

CLOUD = "wanx-x-painting"
Status = InpaintJob.Status


def presenter(username: str = "presenter"):
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    return user


def room_open(**fields) -> tuple[Room, rooms.RoomLinks]:
    options = {"name": "Workshop", "ends_at": timezone.now() + datetime.timedelta(hours=1),
               "engines": ["offline", CLOUD]} | fields
    return rooms.room_create(presenter=presenter(), **options)


def guest_job(guest: RoomGuest, engine: str = CLOUD, *, n: int = 1, prompt: str = "a red boat") -> InpaintJob:
    return job_create_sent(job_request(engine, n=n, prompt=prompt), user=None, visitor_id="", guest=guest)


def webp(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "WEBP")
    return out.getvalue()


def entry_finish(job: InpaintJob, *, colour: str = "green") -> InpaintJob:
    """The job as a worker leaves a success: previews stored (what the wall may show), status SUCCEEDED."""
    job.base_preview.save("base-preview.webp", ContentFile(webp("gray")), save=False)
    result = JobResult(job=job, slot=0, width=320, height=320)
    result.image.save("result.png", ContentFile(picture(320, 320, fmt="PNG")), save=False)
    result.preview.save("preview.webp", ContentFile(webp(colour)), save=False)
    result.save()
    InpaintJob.objects.filter(pk=job.pk).update(base_preview=job.base_preview.name, status=Status.SUCCEEDED,
                                                finished_at=timezone.now(), image_count=1)
    job.refresh_from_db()
    return job
