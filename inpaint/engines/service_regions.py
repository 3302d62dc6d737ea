"""Which Alibaba Cloud region DASHSCOPE_BASE_URL names (reference section 6), for engines offered only in some.

Keys are issued per region, and the wanx models are documented for China (Beijing) only, while Qwen-Image-Edit
also runs in Singapore: a page on a Singapore key offers only what that region has.
"""

from __future__ import annotations

from urllib.parse import urlsplit

BEIJING = "beijing"
SINGAPORE = "singapore"
# The shared DashScope domain, and the workspace-dedicated one's suffix, of each region.
_HOSTS = {
    BEIJING: ("dashscope.aliyuncs.com", ".cn-beijing.maas.aliyuncs.com"),
    SINGAPORE: ("dashscope-intl.aliyuncs.com", ".ap-southeast-1.maas.aliyuncs.com"),
}


def service_region(base_url: str) -> str | None:
    """The region of a base URL; None for a host that names none (a gateway, a stand-in), which may serve any model."""
    host = (urlsplit(base_url).hostname or "").lower()
    for region, (shared, workspace_suffix) in _HOSTS.items():
        if host == shared or host.endswith(workspace_suffix):
            return region
    return None
