import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inpaint import options
from inpaint.files import names


# The names the migrations 0001-0004 import as upload_to: a migration keeps the path it was written with.
_base_image_path = names.base_image_path
_mask_image_path = names.mask_image_path
_base_alpha_path = names.base_alpha_path
_base_preview_path = names.base_preview_path
_region_image_path = names.region_image_path
_region_mask_path = names.region_mask_path
_result_image_path = names.result_image_path
_result_raw_path = names.result_raw_path
_result_preview_path = names.result_preview_path


class InpaintJob(models.Model):
    """One request to repaint the masked area of a picture, and everything that happened to it.

    State machine: ``TRANSITIONS`` below is the table every status change is checked
    against (``inpaint.services.states.job_transition``, a conditional UPDATE, so a task that
    runs twice changes nothing the second time)::

        QUEUED ──remote task created──▶ SUBMITTED ──remote RUNNING──▶ RUNNING
          │ ▲                             │   │                         │  │
          │ └──offline fill interrupted───┼───┼─────────────────────────┘  │
          ├──offline fill starts──▶ RUNNING   └──remote SUCCEEDED──▶ SUCCEEDED ◀─┘
          ├──user cancels──▶ CANCELED ◀──remote cancel / remote CANCELED (SUBMITTED, RUNNING)
          └──permanent error / remote FAILED or UNKNOWN / deadline──▶ FAILED
             (from QUEUED, SUBMITTED or RUNNING)

    QUEUED also covers "waiting": a transient error (timeout, 429, 5xx) keeps the job
    QUEUED or SUBMITTED with ``waiting_reason`` set while it is retried with back-off; a
    remote task the service has SUSPENDED stays SUBMITTED/RUNNING with ``remote_status``
    saying so. SUCCEEDED, FAILED and CANCELED are final. ``submit_claimed_at`` is set by the
    one worker allowed to call the paid create endpoint, before it calls; ``remote_task_id``
    is written straight after, so a job is never submitted twice.
    """

    class Status(models.TextChoices):
        QUEUED = "QUEUED", _("Waiting in the queue")
        SUBMITTED = "SUBMITTED", _("Sent")
        RUNNING = "RUNNING", _("Painting")
        SUCCEEDED = "SUCCEEDED", _("Done")
        FAILED = "FAILED", _("Failed")
        CANCELED = "CANCELED", _("Cancelled")

    TRANSITIONS = {
        Status.QUEUED: {Status.SUBMITTED, Status.RUNNING, Status.CANCELED, Status.FAILED},
        Status.SUBMITTED: {Status.RUNNING, Status.SUCCEEDED, Status.CANCELED, Status.FAILED},
        # RUNNING → QUEUED: an interrupted offline fill costs nothing to run again.
        Status.RUNNING: {Status.QUEUED, Status.SUCCEEDED, Status.CANCELED, Status.FAILED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
        Status.CANCELED: set(),
    }
    FINAL_STATUSES = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
    UNFINISHED_STATUSES = frozenset(TRANSITIONS) - FINAL_STATUSES

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.CASCADE)
    # An anonymous visitor's id, kept in their session (never the session key itself, which
    # changes on sign-in and is a live credential).
    visitor_id = models.CharField(_("visitor"), max_length=64, blank=True, db_index=True)
    # Who the job belongs to, for taking turns and per-person limits: "user:<pk>" or "visitor:<id>".
    owner_key = models.CharField(max_length=80, blank=True, db_index=True)
    engine = models.CharField(_("engine"), max_length=40)
    # A job of a batch (one mask and one set of options over many photos) waits ``held`` until the batch
    # releases it (inpaint.services.batches), so a batch of fifty never floods the queue or the person's
    # jobs in progress. ``source_name`` is the photo's own file name, which its results keep in a download.
    batch = models.ForeignKey("Batch", verbose_name=_("batch"), null=True, blank=True, related_name="jobs",
                              on_delete=models.SET_NULL)
    held = models.BooleanField(default=False)
    source_name = models.CharField(_("photo's file name"), max_length=200, blank=True)
    # A room guest's job (owner_key "guest:<RoomGuest id>") counts against the room's cap and may be
    # shown on its wall, under wall_ref (random, so the wall never names the job), unless the presenter
    # took it off (wall_hidden).
    room = models.ForeignKey("Room", verbose_name=_("room"), null=True, blank=True, related_name="jobs",
                             on_delete=models.SET_NULL)
    wall_ref = models.CharField(max_length=32, blank=True, db_index=True)
    wall_hidden = models.BooleanField(_("hidden from the wall"), default=False)

    prompt = models.CharField(_("prompt"), max_length=800)
    negative_prompt = models.CharField(max_length=options.NEGATIVE_PROMPT_MAX_CHARS, blank=True,
                                       default=options.NEGATIVE_PROMPT_DEFAULT)
    style = models.CharField(max_length=32, default=options.STYLE_DEFAULT)
    # The result's size: "original" (the picture's own) or a fraction of it; see options.SIZE_SCALES.
    size = models.CharField(max_length=16, default=options.SIZE_DEFAULT)
    # How much of the picture around the painted area the engine sees (inpaint.regions).
    context = models.CharField(max_length=16, default=options.CONTEXT_DEFAULT)
    edge_softness = models.PositiveSmallIntegerField(default=options.EDGE_SOFTNESS_DEFAULT)
    # What the engine is asked to do (options.FUNCTIONS); for "expand", how far each side is extended, and for
    # "super_resolution" how many times larger the picture is made.
    function = models.CharField(max_length=32, default=options.FUNCTION_EDIT)
    top_scale = models.FloatField(default=options.EXPAND_SCALE_MIN)
    bottom_scale = models.FloatField(default=options.EXPAND_SCALE_MIN)
    left_scale = models.FloatField(default=options.EXPAND_SCALE_MIN)
    right_scale = models.FloatField(default=options.EXPAND_SCALE_MIN)
    upscale_factor = models.PositiveSmallIntegerField(default=options.UPSCALE_FACTOR_DEFAULT)
    n = models.PositiveSmallIntegerField(default=options.COUNT_DEFAULT)
    mask_color = models.JSONField(default=list, blank=True)
    seed = models.PositiveIntegerField(default=0)
    base_image = models.FileField(_("picture"), upload_to=names.base_image_path, max_length=200)
    mask_image = models.FileField(_("mask"), upload_to=names.mask_image_path, max_length=200)
    # The picture's transparency, kept apart because the engines paint on an opaque picture;
    # every result gets it back. Empty for an opaque picture.
    base_alpha = models.FileField(upload_to=names.base_alpha_path, max_length=200, blank=True)
    base_width = models.PositiveIntegerField(_("picture width"), default=0)
    base_height = models.PositiveIntegerField(_("picture height"), default=0)
    # A small WebP of the picture for the page (a full-size original can be 100 MP).
    base_preview = models.FileField(upload_to=names.base_preview_path, max_length=200, blank=True)
    # The work region sent to the engine: {left, top, right, bottom} in picture pixels (it may
    # reach past the picture, where it was padded) and the size it was sent at; and its files.
    region = models.JSONField(null=True, blank=True)
    region_image = models.FileField(upload_to=names.region_image_path, max_length=200, blank=True)
    region_mask = models.FileField(upload_to=names.region_mask_path, max_length=200, blank=True)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    waiting_reason = models.CharField(_("why it waits"), max_length=300, blank=True)
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
    # The remote task's last reported status, e.g. SUSPENDED while the service holds it back.
    remote_status = models.CharField(max_length=16, blank=True)
    task_metrics = models.JSONField(null=True, blank=True)
    # A synchronous engine's answer (each slot's link, or why it failed), kept until its images are stored:
    # the call has no task to ask again, so a download that failed is retried from these links.
    answer = models.JSONField(null=True, blank=True)
    image_count = models.PositiveSmallIntegerField(_("images billed"), null=True, blank=True)

    error_code = models.CharField(_("error code"), max_length=80, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    submitted_at = models.DateTimeField(_("sent"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        # The queue's order, and the newest successes of an engine (its estimate, read by every waiting card).
        indexes = [models.Index(fields=["engine", "status", "created_at"]),
                   models.Index(fields=["engine", "status", "finished_at"])]

    def __str__(self) -> str:
        return f"{self.engine} job {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def expand_scales(self) -> dict[str, float]:
        """The four sides' scales by their API names, for an "expand" job."""
        return {side: getattr(self, side) for side in options.EXPAND_SIDES}

    @property
    def function_parameters(self) -> dict:
        """The API parameters of the job's function beyond n and seed, by their own names."""
        if self.function == options.FUNCTION_EXPAND:
            return self.expand_scales
        if self.function == options.FUNCTION_UPSCALE:
            return {"upscale_factor": self.upscale_factor}
        return {}

    @property
    def is_suspended(self) -> bool:
        return not self.is_final and self.remote_status == "SUSPENDED"

    @property
    def elapsed_seconds(self) -> float:
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())


class EngineGate(models.Model):
    """Per-engine admission state shared by every worker on every host (a row locked per decision).

    ``recent_submits`` holds the times of the submissions in the last second, for the rate
    limit; ``paused_until`` is set when the service answered 429, so nobody submits before then.
    """

    engine = models.CharField(_("engine"), max_length=40, primary_key=True)
    recent_submits = models.JSONField(default=list)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    throttle_strikes = models.PositiveSmallIntegerField(_("times slowed down"), default=0)

    class Meta:
        verbose_name = _("engine limit")
        verbose_name_plural = _("engine limits")

    def __str__(self) -> str:
        return self.engine


class RateCount(models.Model):
    """How many arrivals a flood limit has counted for one network in one window (inpaint.services.floods).
    Counted by one atomic upsert, so parallel posts on any host never lose a count, and never evicted
    early the way a cache entry is under load."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class Lock(models.Model):
    """A row to lock, so that a check and the insert it guards happen one at a time on every host
    (e.g. the monthly caps, counted and reserved together when a job is created)."""

    name = models.CharField(max_length=40, primary_key=True)

    def __str__(self) -> str:
        return self.name


class JobResult(models.Model):
    """One of a job's n output slots: a stored image, or the code and message of why it failed."""

    job = models.ForeignKey(InpaintJob, verbose_name=_("job"), related_name="results", on_delete=models.CASCADE)
    slot = models.PositiveSmallIntegerField(_("result number"), )
    # The finished picture: the engine's output pasted back into the full-size photo, lossless.
    image = models.FileField(_("picture"), upload_to=names.result_image_path, max_length=200, blank=True)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    # What the engine returned (what was billed), and a small WebP for the page.
    raw_image = models.FileField(_("picture as the engine sent it"), upload_to=names.result_raw_path, max_length=200,
                                 blank=True)
    preview = models.FileField(_("preview"), upload_to=names.result_preview_path, max_length=200, blank=True)
    # How often the result link answered 4xx: a passing fault is retried before the slot is called expired.
    link_refusals = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(_("error code"), max_length=80, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["slot"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="one_result_per_slot")]

    def __str__(self) -> str:
        return f"slot {self.slot} of {self.job_id}"


class Room(models.Model):
    """A demo room a staff member opens: its guests join through a link, without an account, and share
    its cap of cloud images and its engines; its wall shows their newest results.

    Both links are access links: the tokens are random, and only their sha256 is kept here. Rotating
    one makes a new token (the old link stops working); the join link also stops at ``ends_at`` or
    when the room is closed early.
    """

    name = models.CharField(_("name"), max_length=80)
    presenter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("presenter"), related_name="rooms",
                                  on_delete=models.PROTECT)
    ends_at = models.DateTimeField(_("ends"), )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Cloud images for the whole room and per guest (0: none beyond the app's own caps).
    image_cap = models.PositiveIntegerField(_("cloud images for the room"), default=0)
    guest_image_cap = models.PositiveIntegerField(_("cloud images per guest"), default=0)
    guest_active_jobs = models.PositiveSmallIntegerField(_("jobs in progress per guest"), default=2)
    engines = models.JSONField(_("engines"), default=list)
    join_token_hash = models.CharField(max_length=64, unique=True)
    wall_token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.ends_at > timezone.now()


class RoomGuest(models.Model):
    """A person who joined a room by its link; their session holds this row's id."""

    room = models.ForeignKey(Room, verbose_name=_("room"), related_name="guests", on_delete=models.CASCADE)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("room guest")
        verbose_name_plural = _("room guests")

    def __str__(self) -> str:
        return f"guest {self.pk} of {self.room}"

    @property
    def owner_key(self) -> str:
        return f"guest:{self.pk}"


class Batch(models.Model):
    """Many photos painted with one mask, one prompt and one set of options: one job per photo, one card.

    The browser sends the first photo with the mask and the options, then the others one by one, so no post
    is larger than a single job's. ``photo_count`` is how many it said it would send (the spend guard counted
    them all before the first started); ``skipped`` lists the photos not taken, each with the reason.
    """

    class OtherShapes(models.TextChoices):
        SKIP = "skip", _("Skip them")
        RELATIVE = "relative", _("Place the mask relative to each picture")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_key = models.CharField(max_length=80, db_index=True)
    photo_count = models.PositiveIntegerField(_("photos"))
    other_shapes = models.CharField(_("photos of another shape"), max_length=10, choices=OtherShapes.choices,
                                    default=OtherShapes.SKIP)
    skipped = models.JSONField(default=list, blank=True)
    # The job of the photo the mask was painted on: every other photo takes its mask and options.
    first_job = models.ForeignKey(InpaintJob, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.photo_count}"


class ApiKey(models.Model):
    """A person's key for the DashScope-compatible gateway (inpaint.api): scripts act as that person.

    Only the key's sha256 is kept, so a copy of the database opens nothing; ``prefix`` (random, not
    secret) finds the row without comparing every digest. Revoking is immediate: every request looks
    the key up again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), related_name="api_keys",
                             on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=80, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name or self.prefix} ({self.user})"
