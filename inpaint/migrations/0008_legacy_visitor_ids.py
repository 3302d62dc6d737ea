"""Jobs made before visitor ids existed were filed under the maker's session key, a live credential kept
in a job column. Each such visitor gets a random id instead, written into their session too, so they keep
their jobs and the key is no longer stored beside them."""

import secrets
from importlib import import_module

from django.conf import settings
from django.db import migrations

# inpaint.services.owners.VISITOR_SESSION_KEY, as it was when this migration was written.
VISITOR_SESSION_KEY = "inpaint_visitor"


def legacy_visitor_ids_replace(apps, schema_editor) -> int:
    """Returns how many visitors were moved to a random id."""
    job_model = apps.get_model("inpaint", "InpaintJob")
    session_model = apps.get_model("sessions", "Session")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    filed = job_model.objects.filter(owner__isnull=True).exclude(visitor_id="")
    legacy = set(session_model.objects.filter(session_key__in=filed.values("visitor_id"))
                 .values_list("session_key", flat=True))
    for session_key in legacy:
        session = store(session_key=session_key)
        visitor_id = session.get(VISITOR_SESSION_KEY) or secrets.token_urlsafe(24)
        session[VISITOR_SESSION_KEY] = visitor_id
        session.save()
        filed.filter(visitor_id=session_key).update(visitor_id=visitor_id, owner_key=f"visitor:{visitor_id}")
    return len(legacy)


class Migration(migrations.Migration):
    dependencies = [("inpaint", "0007_rate_counts"), ("sessions", "0001_initial")]

    operations = [migrations.RunPython(legacy_visitor_ids_replace, migrations.RunPython.noop)]
