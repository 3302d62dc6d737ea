"""The words of inpaint.images's refusals: each one plain sentence naming the limit and the value found, in the
reader's language."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from inpaint.options import upload_names


class ImageRefused(ValueError):
    """A picture or mask that cannot be used, with a message for the person who sent it."""


# What a message calls the file it is about; callers pass the key.
WHAT_NAMES = {"picture": gettext_lazy("picture"), "mask": gettext_lazy("mask")}


def refusal_about(what: str, message: str, **values) -> str:
    """A translated message about the picture or the mask, with its other values put in."""
    return message % {"what": WHAT_NAMES[what], **values}


def megabytes(n_bytes: int) -> str:
    return _("%(megabytes).1f MB") % {"megabytes": n_bytes / (1024 * 1024)}


def damaged(what: str) -> ImageRefused:
    return ImageRefused(refusal_about(what, _("The %(what)s file is damaged or incomplete and cannot be read.")))


def too_many_pixels(what: str) -> ImageRefused:
    return ImageRefused(refusal_about(what, _("The %(what)s has too many megapixels to open safely.")))


def unsupported_format_message(data: bytes, what: str) -> str:
    try:
        found = Image.open(io.BytesIO(data)).format
    except Exception:  # noqa: BLE001 - any failure just means "not a picture we know"
        found = None
    if found:
        # English needs its article; other languages take the one message.
        message = (_("The %(what)s is an %(found)s file; please use a %(formats)s picture.") if found[0] in "AEIOU"
                   else _("The %(what)s is a %(found)s file; please use a %(formats)s picture."))
        return refusal_about(what, message, found=found, formats=upload_names(_))
    return refusal_about(what, _("The %(what)s file is not a picture we can read (%(formats)s)."), formats=upload_names(_))
