"""Send again in a real browser (issue 20): a Qwen job whose answer was lost turns "in doubt" on the card while
the page watches it, the card says it may be billed twice, and only the person's press sends it again, as a new
job on the same card with the same picture, mask and prompt; the old job stays as it was."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from inpaint.services import recovery
from tests import pictures
from tests.live import TEST_API_KEY
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QWEN = "qwen-image-edit-plus"


def test_a_job_in_doubt_is_sent_again_only_when_the_person_presses_send_again(studio_factory, settings, sent_steps):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    studio.stroke([studio.screen_point(0.3, 0.4), studio.screen_point(0.6, 0.5)])
    page.get_by_test_id("engine").select_option(QWEN)
    page.get_by_test_id("prompt").fill("a yellow kite")
    page.get_by_test_id("generate").click()
    expect(page.get_by_test_id("job-card")).to_be_visible()
    job = InpaintJob.objects.get()

    # What the edits worker records when it dies during the call (inpaint.tasks, the reconcile of a lost step).
    recovery.job_in_doubt(job)
    card = page.locator(f"#job-{job.pk}")
    expect(card.get_by_role("alert")).to_contain_text("billed twice")  # the card's own poll brought it
    assert InpaintJob.objects.count() == 1, "the app sent it again by itself"

    card.get_by_test_id("send-again").click()
    expect(page.locator(f"#job-{job.pk}")).to_have_count(0)  # the card became the new job's
    new = InpaintJob.objects.exclude(pk=job.pk).get()
    expect(page.locator(f"#job-{new.pk}")).to_be_visible()
    expect(page.get_by_test_id("send-again")).to_have_count(0)
    assert (new.engine, new.prompt, new.status) == (QWEN, "a yellow kite", InpaintJob.Status.QUEUED)
    assert InpaintJob.objects.get(pk=job.pk).error_code == recovery.IN_DOUBT_CODE
    with new.mask_image.open("rb") as sent, job.mask_image.open("rb") as first:
        assert sent.read() == first.read()
    assert str(new.pk) in [step[1] for step in sent_steps], "the new job was never handed to a worker"
