"""Which handler of the stand-in answers which request: DashScope's API routes (all behind the API key), the
temporary-storage host and the result links (OSS's, without it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.dashscope_standin.multimodal import GENERATION_PATH
from tests.dashscope_standin.results import RESULT_PATH
from tests.dashscope_standin.storage import OSS_UPLOAD_PATH
from tests.dashscope_standin.wire import ApiError, RecordedRequest

# (method, path, name of the facade's handler, whether it needs the API key)
ROUTES = (
    ("POST", re.compile(r"^/api/v1/services/aigc/image2image/image-synthesis$"), "_task_create", True),
    ("POST", GENERATION_PATH, "_generation", True),
    ("GET", re.compile(r"^/api/v1/tasks/(?P<task_id>[^/]+)$"), "_task_query", True),
    ("POST", re.compile(r"^/api/v1/tasks/(?P<task_id>[^/]+)/cancel$"), "_task_cancel", True),
    ("GET", re.compile(r"^/api/v1/tasks/?$"), "_tasks_list", True),
    ("GET", re.compile(r"^/api/v1/uploads$"), "_upload_policy", True),
    ("POST", re.compile(rf"^{OSS_UPLOAD_PATH}$"), "_upload", False),
    ("GET", RESULT_PATH, "_result", False),
)


@dataclass(frozen=True)
class Route:
    handler_name: str
    needs_key: bool
    path_parameters: dict[str, str]


def route_find(request: RecordedRequest) -> Route:
    """The route of a request, or DashScope's 404 for one it does not serve."""
    for method, pattern, handler_name, needs_key in ROUTES:
        if request.method == method and (match := pattern.match(request.path)):
            return Route(handler_name, needs_key, match.groupdict())
    raise ApiError(404, "NotFound", f"No route for {request.method} {request.path}")
