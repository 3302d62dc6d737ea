from django.contrib import admin
from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inpaint.api.keys import api_key_revoke
from inpaint.models import ApiKey, EngineGate, InpaintJob, JobResult, Room, RoomGuest


class JobResultInline(admin.TabularInline):
    model = JobResult
    extra = 0
    readonly_fields = ("slot", "image", "width", "height", "raw_image", "error_code", "error_message")
    fields = readonly_fields
    can_delete = False


@admin.register(InpaintJob)
class InpaintJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "engine", "status", "person", "n", "image_count", "error_code")
    list_filter = ("engine", "status")
    date_hierarchy = "created_at"
    search_fields = ("pk", "remote_task_id", "prompt", "owner__username", "visitor_id")
    readonly_fields = [field.name for field in InpaintJob._meta.fields]
    inlines = [JobResultInline]

    @admin.display(description=_("owner"))
    def person(self, job: InpaintJob) -> str:
        # An account's name, or an anonymous visitor's id (the app's own, never a session key).
        return job.owner.get_username() if job.owner else gettext("visitor %(id)s") % {"id": job.visitor_id[:8]}

    def changelist_view(self, request, extra_context=None):
        # The images billed by the jobs the filters select: pick a month in the date
        # hierarchy, and an owner or session in the search box, to get the usage per month or per user.
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            billed = changelist.queryset.aggregate(total=Sum("image_count"))["total"] or 0
            response.context_data["title"] = ngettext("Jobs — %(count)d image billed in this selection",
                                                      "Jobs — %(count)d images billed in this selection",
                                                      billed) % {"count": billed}
        return response


@admin.register(EngineGate)
class EngineGateAdmin(admin.ModelAdmin):
    list_display = ("engine", "paused_until", "throttle_strikes")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "presenter", "created_at", "ends_at", "closed_at", "image_cap")
    # The token hashes open nothing, but nobody needs to edit them by hand.
    readonly_fields = ("join_token_hash", "wall_token_hash", "created_at")


@admin.register(RoomGuest)
class RoomGuestAdmin(admin.ModelAdmin):
    list_display = ("pk", "room", "joined_at")
    list_filter = ("room",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with ``manage.py createapikey`` (the key is shown only there); here they are seen and revoked."""

    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    readonly_fields = ("user", "prefix", "digest", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset) -> None:
        revoked = sum(api_key_revoke(api_key) for api_key in queryset)
        self.message_user(request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked)
                          % {"count": revoked})
