"""The form a staff member opens a demo room with."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inpaint.engines import engines_listed

# A room runs for a session or a day's workshop; longer than this is a standing deployment, not a room.
MAX_ROOM_HOURS = 72
DEFAULT_ROOM_HOURS = 2


def _engine_choices() -> list[tuple[str, str]]:
    return [(engine.key, engine.label) for engine in engines_listed() if engine.is_configured]


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    hours = forms.DecimalField(
        label=_("Open for (hours)"), min_value=0.25, max_value=MAX_ROOM_HOURS, decimal_places=2,
        initial=DEFAULT_ROOM_HOURS, help_text=_("Guests can make new pictures until then; what they made stays."))
    engines = forms.MultipleChoiceField(label=_("Engines guests may use"), choices=_engine_choices,
                                        widget=forms.CheckboxSelectMultiple)
    image_cap = forms.IntegerField(label=_("Cloud images for the whole room"), min_value=0, initial=0,
                                   help_text=_("0: no limit beyond the app's own."))
    guest_image_cap = forms.IntegerField(label=_("Cloud images per guest"), min_value=0, initial=0,
                                         help_text=_("0: no limit beyond the room's."))
    guest_active_jobs = forms.IntegerField(label=_("Jobs in progress per guest"), min_value=1, max_value=10,
                                           initial=2)

    def ends_at(self) -> datetime.datetime:
        return timezone.now() + datetime.timedelta(hours=float(self.cleaned_data["hours"]))
