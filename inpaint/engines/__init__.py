"""The engines the app knows, by the key the form uses.

Engines come from ``INPAINT_ENGINE_CLASSES`` (import strings), so a new engine is one new
module and one line of configuration; ``INPAINT_ENGINES`` picks which of them the page offers.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from inpaint.engines.base import Engine
from inpaint.engines.service_regions import service_region


@cache
def all_engines() -> dict[str, Engine]:
    engines = (import_string(path)() for path in settings.INPAINT_ENGINE_CLASSES)
    return {engine.key: engine for engine in engines}


def engine_get(key: str) -> Engine:
    return all_engines()[key]


def engines_listed() -> list[Engine]:
    """Engines named in INPAINT_ENGINES and offered in the service's region, in that order; the page shows those
    it cannot run as unavailable."""
    engines, region = all_engines(), service_region(settings.DASHSCOPE_BASE_URL)
    return [engines[key] for key in settings.INPAINT_ENGINES if key in engines and (
        engines[key].service_regions is None or region is None or region in engines[key].service_regions)]


def engines_offered() -> list[Engine]:
    """Listed engines that this server can run now."""
    return [engine for engine in engines_listed() if engine.is_configured()]


def engine_default() -> Engine | None:
    offered = engines_offered()
    # A configured cloud engine follows the prompt, so it is the better default; with no
    # key the offline engine is the one that works.
    return next((engine for engine in offered if engine.remote), offered[0] if offered else None)
