"""The stand-in's own tests' fixtures: a stand-in, an HTTP session that ignores proxies, and a host of input
pictures."""

from __future__ import annotations

import pytest
import requests

from tests.dashscope_standin import DashScopeStandIn
from tests.dashscope_standin_tests.standin_calls import API_KEY, ImageHost, mask_bytes, png_bytes


@pytest.fixture
def ds():
    with DashScopeStandIn(api_key=API_KEY) as standin:
        standin.running_seconds = 0.2
        yield standin


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment must not intercept 127.0.0.1
    yield session
    session.close()


@pytest.fixture
def images():
    host = ImageHost()
    yield host
    host.close()


@pytest.fixture
def inputs(images):
    """URLs of a 400x300 base image and a mask whose left half is white."""
    return {
        "base_image_url": images.publish("/base.png", png_bytes((400, 300))),
        "mask_image_url": images.publish("/mask.png", mask_bytes((400, 300), (0, 0, 200, 300))),
    }


@pytest.fixture
def edit_inputs(images):
    """URLs of a 512x512 base image (the smallest wanx2.1-imageedit takes) and a mask with a white top-left square."""
    return {
        "base_image_url": images.publish("/edit-base.png", png_bytes((512, 512))),
        "mask_image_url": images.publish("/edit-mask.png", mask_bytes((512, 512), (0, 0, 100, 100))),
    }
