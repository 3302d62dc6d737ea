"""Jobs filed under a live session key move to a random visitor id, which their maker's session then holds."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore

from inpaint.models import InpaintJob
from inpaint.services.owners import VISITOR_SESSION_KEY
from tests.services.fakes import make_job

pytestmark = pytest.mark.django_db
migration = import_module("inpaint.migrations.0008_legacy_visitor_ids")


def test_a_job_under_a_session_key_moves_to_a_random_visitor_id_the_session_keeps():
    session = SessionStore()
    session["something"] = "kept"
    session.create()
    legacy = make_job(visitor_id=session.session_key, owner_key=f"visitor:{session.session_key}")
    current = make_job()  # filed under a visitor id already ("visitor-a")

    assert migration.legacy_visitor_ids_replace(apps, None) == 1

    legacy.refresh_from_db()
    reloaded = SessionStore(session_key=session.session_key)
    assert legacy.visitor_id == reloaded[VISITOR_SESSION_KEY] != session.session_key
    assert legacy.owner_key == f"visitor:{legacy.visitor_id}"
    assert reloaded["something"] == "kept"
    assert InpaintJob.objects.get(pk=current.pk).visitor_id == "visitor-a"
    assert not InpaintJob.objects.filter(visitor_id=session.session_key).exists()
    assert migration.legacy_visitor_ids_replace(apps, None) == 0  # run twice, changes nothing
