"""Calling the DashScope stand-in as the app would, for the stand-in's own tests: the pictures and the host that
serves them, the requests' headers and bodies, and the checks of its answers."""

from __future__ import annotations

import io
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

API_KEY = "sk-test"
TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
BASE_COLOUR = (40, 90, 160)


class ImageHost:
    """A tiny HTTP server handing out fixed bytes by path, standing in for wherever the app publishes its inputs."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.hits: list[tuple[str, float]] = []
        self.delay_seconds = 0.0
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.hits.append((self.path, time.time()))
                time.sleep(host.delay_seconds)
                body = host.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def publish(self, path: str, data: bytes) -> str:
        self.files[path] = data
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def png_bytes(size: tuple[int, int], colour=BASE_COLOUR, box=None, box_colour=(255, 255, 255), format="PNG") -> bytes:
    """A solid image, optionally with a rectangle `box` = (left, top, right, bottom) in `box_colour`."""
    image = Image.new("RGB", size, colour)
    if box:
        image.paste(box_colour, box)
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def mask_bytes(size: tuple[int, int], box) -> bytes:
    """Black background, white rectangle to repaint."""
    return png_bytes(size, colour=(0, 0, 0), box=box)


def auth_headers(**extra):
    return {"Authorization": f"Bearer {API_KEY}", **extra}


def create_headers(**extra):
    return auth_headers(**{"X-DashScope-Async": "enable", "Content-Type": "application/json", **extra})


def painting_body(inputs, prompt="a red balloon", **parameters):
    return {"model": "wanx-x-painting", "input": {"prompt": prompt, **inputs}, "parameters": parameters}


def imageedit_body(inputs, prompt="make it a red balloon", function="description_edit_with_mask", **parameters):
    return {
        "model": "wanx2.1-imageedit",
        "input": {"function": function, "prompt": prompt, **inputs},
        "parameters": parameters,
    }


def generation_body(images, text="make the sky red", model="qwen-image-edit-plus", **parameters):
    content = [{"image": url} for url in images] + [{"text": text}]
    return {"model": model, "input": {"messages": [{"role": "user", "content": content}]}, "parameters": parameters}


def generate(ds, http, body, headers=None, **kwargs):
    """A sync Qwen-Image-Edit call, with the headers the SDK sends (no async header) unless told otherwise."""
    url = f"{ds.base_url}/services/aigc/multimodal-generation/generation"
    return http.post(url, json=body, headers=headers or auth_headers(**{"Content-Type": "application/json"}), **kwargs)


OSS_RESOLVE_HEADERS = create_headers(**{"X-DashScope-OssResourceResolve": "enable"})


def create(ds, http, body, headers=None):
    url = f"{ds.base_url}/services/aigc/image2image/image-synthesis"
    return http.post(url, json=body, headers=headers or create_headers())


def create_task(ds, http, body, headers=None) -> str:
    response = create(ds, http, body, headers)
    assert response.status_code == 200, response.text
    return response.json()["output"]["task_id"]


def query(ds, http, task_id, **kwargs):
    return http.get(f"{ds.base_url}/tasks/{task_id}", headers=auth_headers(), **kwargs)


def wait_for_status(ds, task_id, *statuses, timeout=5.0):
    """Waits on the stand-in's own records, so waiting spends none of the query rate limit."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        task = ds.tasks.get(task_id)
        if task and task.status in statuses:
            return task
        time.sleep(0.01)
    raise AssertionError(f"task {task_id} never reached {statuses}: {ds.tasks.get(task_id)}")


def assert_error(response, status, code, message=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id"}
    assert body["code"] == code
    uuid.UUID(body["request_id"])
    if message is not None:
        assert body["message"] == message


def fetch_image(http, url) -> Image.Image:
    response = http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def assert_oss_error(response, status, code, message=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert f"<Code>{code}</Code>" in response.text
    assert "<RequestId>" in response.text
    if message is not None:
        assert f"<Message>{message}</Message>" in response.text


def result_of(ds, http, task_id, slot=0) -> str:
    wait_for_status(ds, task_id, "SUCCEEDED")
    return query(ds, http, task_id).json()["output"]["results"][slot]["url"]
