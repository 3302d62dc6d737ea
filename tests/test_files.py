"""A job's files (inpaint.files): where each is stored, its sources read once, the files made on request,
opening one with its download name and ETag, and the list of what goes with the job."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from inpaint.files import names

JOB_ID = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")


def test_every_file_of_a_job_is_stored_under_the_job_s_own_folder():
    job = SimpleNamespace(pk=JOB_ID)
    result = SimpleNamespace(job=job, slot=2)
    folder = f"jobs/{JOB_ID}/"
    assert names.base_image_path(job, "photo.PNG") == folder + "base.png"
    assert names.base_image_path(job, "photo.webp") == folder + "base.jpg"
    assert names.mask_image_path(job, "anything") == folder + "mask.png"
    assert names.base_alpha_path(job, "x") == folder + "base-alpha.png"
    assert names.base_preview_path(job, "x") == folder + "base-preview.webp"
    assert names.region_image_path(job, "region.jpg") == folder + "region.jpg"
    assert names.region_image_path(job, "region") == folder + "region.png"
    assert names.region_mask_path(job, "x") == folder + "region-mask.png"
    assert names.result_image_path(result, "result.png") == folder + "result-2.png"
    assert names.result_raw_path(result, "model-output.webp") == folder + "result-2-model-output.webp"
    assert names.result_preview_path(result, "x") == folder + "result-2-preview.webp"


def test_the_derived_paths_name_each_file_that_can_be_made_for_every_slot():
    job = SimpleNamespace(pk=JOB_ID, n=2)
    folder = f"jobs/{JOB_ID}/"
    assert sorted(names.job_derived_paths(job)) == sorted(folder + name for name in (
        "base-with-transparency.png", "base-editor.jpg",
        "result-0.jpg", "result-0-editor.jpg", "result-1.jpg", "result-1-editor.jpg"))


def test_a_download_is_named_after_the_job_what_it_is_and_its_slot_counted_from_one():
    job = SimpleNamespace(pk=JOB_ID)
    assert names.job_file_download_name(job, "result", 0, "png") == "inpaint-12345678-result-1.png"
    assert names.job_file_download_name(job, "mask", None, "png") == "inpaint-12345678-mask.png"
