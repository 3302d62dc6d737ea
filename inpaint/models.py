import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def job_file_path(job: "InpaintJob", name: str) -> str:
    return f"jobs/{job.pk}/{name}"


def _base_image_path(job, filename):
    return job_file_path(job, "base" + (".png" if filename.lower().endswith(".png") else ".jpg"))


def _mask_image_path(job, filename):
    return job_file_path(job, "mask.png")


def _base_alpha_path(job, filename):
    return job_file_path(job, "base-alpha.png")


def _result_image_path(result, filename):
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "png"
    return job_file_path(result.job, f"result-{result.slot}.{extension}")


class InpaintJob(models.Model):
    """One request to repaint the masked area of a picture, and everything that happened to it.

    State machine (every change is a conditional UPDATE in ``inpaint.services``, so a task
    that runs twice changes nothing the second time)::

        QUEUED ──submit (remote task created)──▶ SUBMITTED ──remote RUNNING──▶ RUNNING
          │  │                                      │   │                         │
          │  └──offline engine starts──▶ RUNNING    │   └─remote SUCCEEDED────────┤
          │                                         │                             ▼
          ├──user cancels──▶ CANCELED ◀──remote cancel / remote CANCELED     SUCCEEDED
          │                                                                  (results stored)
          └──permanent error / remote FAILED or UNKNOWN / deadline passed──▶ FAILED
             (from QUEUED, SUBMITTED or RUNNING)

    QUEUED also covers "waiting": a transient error (timeout, 429, 5xx) keeps the job
    QUEUED or SUBMITTED with ``waiting_reason`` set while it is retried with back-off.
    SUCCEEDED, FAILED and CANCELED are final. ``submit_claimed_at`` is set by the one
    worker allowed to call the paid create endpoint, before it calls; ``remote_task_id``
    is written straight after, so a job is never submitted twice.
    """

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Waiting in the queue"
        SUBMITTED = "SUBMITTED", "Sent"
        RUNNING = "RUNNING", "Painting"
        SUCCEEDED = "SUCCEEDED", "Done"
        FAILED = "FAILED", "Failed"
        CANCELED = "CANCELED", "Cancelled"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    engine = models.CharField(max_length=40)

    prompt = models.CharField(max_length=800)
    style = models.CharField(max_length=32, default="<auto>")
    size = models.CharField(max_length=16, default="1024*1024")
    n = models.PositiveSmallIntegerField(default=1)
    mask_color = models.JSONField(default=list, blank=True)
    seed = models.PositiveIntegerField(default=0)
    base_image = models.FileField(upload_to=_base_image_path, max_length=200)
    mask_image = models.FileField(upload_to=_mask_image_path, max_length=200)
    # The picture's transparency, kept apart because the engines paint on an opaque picture;
    # every result gets it back. Empty for an opaque picture.
    base_alpha = models.FileField(upload_to=_base_alpha_path, max_length=200, blank=True)
    base_width = models.PositiveIntegerField(default=0)
    base_height = models.PositiveIntegerField(default=0)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    waiting_reason = models.CharField(max_length=300, blank=True)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    poll_errors = models.PositiveSmallIntegerField(default=0)
    submit_claimed_at = models.DateTimeField(null=True, blank=True)
    # The one live chain of tasks for this job: each scheduled step carries step_token and is
    # due at step_due_at. A step with another token is stale and does nothing; a step long
    # past due was lost (worker killed, broker restarted) and the sweep schedules it again.
    step_token = models.CharField(max_length=32, blank=True)
    step_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    remote_task_id = models.CharField(max_length=80, blank=True, db_index=True)
    remote_request_id = models.CharField(max_length=80, blank=True)
    remote_submit_time = models.DateTimeField(null=True, blank=True)
    remote_scheduled_time = models.DateTimeField(null=True, blank=True)
    remote_end_time = models.DateTimeField(null=True, blank=True)
    # Set when the remote task is seen to have ended: from then on it no longer holds one of
    # the account's running slots, even while its images are still being saved.
    remote_ended_at = models.DateTimeField(null=True, blank=True)
    task_metrics = models.JSONField(null=True, blank=True)
    image_count = models.PositiveSmallIntegerField(null=True, blank=True)

    error_code = models.CharField(max_length=80, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["engine", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.engine} job {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def elapsed_seconds(self) -> float:
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())


class EngineGate(models.Model):
    """Per-engine admission state shared by every worker on every host (a row locked per decision).

    ``recent_submits`` holds the times of the submissions in the last second, for the rate
    limit; ``paused_until`` is set when the service answered 429, so nobody submits before then.
    """

    engine = models.CharField(max_length=40, primary_key=True)
    recent_submits = models.JSONField(default=list)
    paused_until = models.DateTimeField(null=True, blank=True)
    throttle_strikes = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return self.engine


class JobResult(models.Model):
    """One of a job's n output slots: a stored image, or the code and message of why it failed."""

    job = models.ForeignKey(InpaintJob, related_name="results", on_delete=models.CASCADE)
    slot = models.PositiveSmallIntegerField()
    image = models.FileField(upload_to=_result_image_path, max_length=200, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["slot"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="one_result_per_slot")]

    def __str__(self) -> str:
        return f"slot {self.slot} of {self.job_id}"
