"""Pillow checks and conversions for pictures and masks. Pure Pillow: no ORM; Django only for the words of
its refusals (inpaint.image_refusals), in the reader's language.

Every refusal is an ``ImageRefused`` whose message is one plain sentence naming the limit
and the value found, ready to show to the person who uploaded the file.

Transparency: the painting services take no alpha channel, so a picture with transparent
pixels is flattened onto white for painting, and its alpha is kept apart. Every result gets
that transparency back, made opaque wherever the mask repainted (what was painted there is
new content), and the person is told so. The alpha of the picture is never turned into a
mask; only an uploaded *mask* may use alpha.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from PIL import Image, ImageChops, ImageCms, JpegImagePlugin

from inpaint import png_encode
from inpaint.mask_colours import mask_colours_select
from django.utils.translation import gettext as _

from inpaint.image_refusals import (ImageRefused, damaged, megabytes, refusal_about, too_many_pixels,
                                    unsupported_format_message)
from inpaint.options import MAX_MASK_COLOURS, PROXY_MAX_SIDE, UPLOAD_PILLOW_FORMATS, upload_names

# HEIC/HEIF is what phones write; pillow-heif's wheels carry libheif, nothing is downloaded.
pillow_heif.register_heif_opener()

# Formats whose extra frames are an animation (APNG, animated WebP); GIF is not accepted at all.
ANIMATED_FORMATS = ("PNG", "WEBP")
# A mask is only a guide for which pixels to repaint, so it may be a scaled copy of the
# picture; aspect ratios closer than this count as "the same shape".
MASK_ASPECT_TOLERANCE = 0.01
JPEG_QUALITY = 95
# Stored pictures and results are lossless PNG; level 1 is several times faster than the
# default on photos for a few per cent more bytes, which matters at 24-100 MP.
PNG_COMPRESS_LEVEL = 1
ORIENTATION_TAG = 0x0112
# How each EXIF orientation is undone (as ImageOps.exif_transpose does); 1 is upright, anything else is none.
_UPRIGHTING = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}
_SRGB = ImageCms.createProfile("sRGB")
_THRESHOLD = [0] * 128 + [255] * 128  # a grey mask is "repaint" from 128 up


@dataclass
class PreparedImage:
    content: bytes
    extension: str  # "jpg" or "png"
    width: int
    height: int
    notes: list[str] = field(default_factory=list)
    alpha: bytes | None = None  # the picture's transparency as an 8-bit PNG, for the results


def check_file_size(n_bytes: int, *, what: str, max_bytes: int) -> None:
    if n_bytes > max_bytes:
        raise ImageRefused(refusal_about(what, _("The %(what)s file is %(size)s; the limit is %(limit)s."),
                                  size=megabytes(n_bytes), limit=megabytes(max_bytes)))


def _open_checked(data: bytes, *, what: str, max_bytes: int, max_pixels: int) -> Image.Image:
    """Open a picture by content, header only, and refuse it in plain words before any pixel is decoded:
    empty, over the byte or pixel limit, animated, or not a format we read."""
    if not data:
        raise ImageRefused(refusal_about(what, _("The %(what)s file is empty.")))
    check_file_size(len(data), what=what, max_bytes=max_bytes)
    image = _open_lazily(data, what)
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRefused(refusal_about(what, _("The %(what)s has %(megapixels).1f megapixels (%(width)d × %(height)d); "
                                           "the limit is %(limit)g megapixels."),
                                  megapixels=width * height / 1e6, width=width, height=height, limit=max_pixels / 1e6))
    # A multi-page TIFF, a HEIF with several images and a phone's MPO are read at their first or
    # main picture; only frames meant as an animation are refused.
    if getattr(image, "is_animated", False) and image.format in ANIMATED_FORMATS:
        raise ImageRefused(refusal_about(what, _("The %(what)s is animated; please use a still picture (%(formats)s)."),
                                  formats=upload_names(_)))
    return image


def _decode(image: Image.Image, what: str) -> None:
    try:
        with warnings.catch_warnings():
            # The pixel count was checked against the app's limit already (TIFF and MPO ask Pillow again).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise damaged(what) from None
    except Image.DecompressionBombError:
        raise too_many_pixels(what) from None


def _open_lazily(data: bytes, what: str) -> Image.Image:
    """Read the header only, as ``Image.open`` does, but without Pillow's bomb check: that limit is one
    setting for the whole process, and would refuse a 100 MP photo the app's own limit allows. Each
    caller checks the size against the limit it was given instead."""
    Image.init()
    for fmt in UPLOAD_PILLOW_FORMATS:
        factory, accept = Image.OPEN[fmt]
        accepted = accept(data[:16]) if accept else True
        if not accepted or isinstance(accepted, str):
            continue
        try:
            return factory(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # not this format after all, as Image.open would conclude
        except (OSError, ValueError, EOFError, RuntimeError):
            raise damaged(what) from None
        except Image.DecompressionBombError:  # an MPO's frame is checked by Pillow on opening
            raise too_many_pixels(what) from None
    raise ImageRefused(unsupported_format_message(data, what))


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        return image.getchannel("A").getextrema()[0] < 255
    return image.mode == "P" and "transparency" in image.info


def _flatten_on_white(image: Image.Image) -> Image.Image:
    # The same pixels as compositing onto white RGBA, without two more RGBA copies (800 MB at 100 MP).
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba)
    return flat


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    return image.transpose(_UPRIGHTING[orientation]) if orientation != 1 else image


def prepare_base_image(data: bytes, *, max_bytes: int, max_pixels: int, min_side: int) -> PreparedImage:
    """Check a picture against the app's own limits and return it upright, ready to store.

    An upright JPEG, or an upright opaque 8-bit PNG, is kept byte for byte. A turned JPEG is turned
    once and encoded once, as a JPEG at quality 95 with its colour profile, its chroma sampling and
    its EXIF (less the orientation, so nothing turns it twice). Anything else is stored as a lossless PNG.
    """
    image = _open_checked(data, what="picture", max_bytes=max_bytes, max_pixels=max_pixels)
    orientation = _orientation(image, "picture")
    width, height = _upright_size(image, orientation)
    if min(width, height) < min_side:
        raise ImageRefused(_("The picture is %(width)d × %(height)d pixels; each side must be at least %(min_side)d "
                             "pixels.") % {"width": width, "height": height, "min_side": min_side})
    is_jpeg = image.format in ("JPEG", "MPO")
    if (is_jpeg or image.format == "PNG") and orientation == 1 and image.mode in ("RGB", "L") and (
            "transparency" not in image.info):
        # Decoded only to find a damaged file; a JPEG at 1/8 scale: the entropy data is all read, the
        # costly inverse transforms mostly skipped.
        image.draft(image.mode, (image.width // 8, image.height // 8))
        _decode(image, "picture")
        return PreparedImage(data, "jpg" if is_jpeg else "png", width, height, [])

    _decode(image, "picture")
    notes: list[str] = []
    alpha = None
    # Flattened and made RGB before it is turned, and the decoded original freed before that: a 100 MP
    # picture then costs its decoded pixels plus one RGB copy at any moment, never three or four copies.
    if _has_transparency(image):
        alpha = _upright((image if image.mode in ("RGBA", "LA", "PA") else image.convert("RGBA")).getchannel("A"),
                         orientation)
        notes.append(_("The picture's transparent areas are painted on white; the results keep the transparency, "
                       "and the area you paint becomes solid."))
    rgb, icc_profile = _as_rgb(_flatten_on_white(image) if alpha else image, image.info.get("icc_profile"))
    # The camera's 4:2:0 chroma is kept as it was; any other sampling may be turned, so it goes 4:4:4.
    jpeg_options = {"subsampling": 2 if JpegImagePlugin.get_sampling(image) == 2 else 0,
                    "exif": _exif_uprighted(image)} if is_jpeg else {}
    del image  # the decoded original goes before its RGB copy is turned, the unturned copy as it is turned
    rgb = _upright(rgb, orientation)
    alpha_png = _encode(alpha, "PNG", None) if alpha else None
    if is_jpeg:
        return PreparedImage(_encode(rgb, "JPEG", icc_profile, **jpeg_options), "jpg", width, height, notes, alpha_png)
    return PreparedImage(_encode(rgb, "PNG", icc_profile), "png", width, height, notes, alpha_png)


def _exif_uprighted(image: Image.Image) -> bytes:
    """The picture's EXIF less its orientation, so nothing turns the upright copy again."""
    exif = image.getexif()
    exif.pop(ORIENTATION_TAG, None)
    return exif.tobytes() if "exif" in image.info else b""


def _orientation(image: Image.Image, what: str) -> int:
    """The EXIF orientation that turns or mirrors the picture; 1 for none (0 and junk values included)."""
    try:
        orientation = image.getexif().get(ORIENTATION_TAG, 1)  # a PNG's may follow the pixels: decoded here
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise damaged(what) from None
    return orientation if orientation in _UPRIGHTING else 1


def _upright_size(image: Image.Image, orientation: int) -> tuple[int, int]:
    return (image.height, image.width) if orientation >= 5 else image.size


def _as_rgb(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, bytes | None]:
    """The picture as 8-bit RGB, and its colour profile if that still describes it.

    A CMYK picture is turned to sRGB through its own profile; a grey or CMYK profile would be wrong
    on RGB pixels (and invalid in a PNG), so it is dropped: sRGB is what everything assumes then.
    """
    space = _profile_space(icc_profile)
    if image.mode.startswith("I;16"):
        # 16-bit greys (scans, TIFF): Pillow's own conversion clips everything over 255 to white.
        image = Image.fromarray((np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8), "L")
    if image.mode == "CMYK" and space == "CMYK":
        return ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)), _SRGB,
                                         outputMode="RGB"), None
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return rgb, icc_profile if space == "RGB" else None


def _profile_space(icc_profile: bytes | None) -> str | None:
    if not icc_profile:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)).profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError):
        return None  # a broken profile is as good as none


def picture_preview(data: bytes, *, max_side: int = PROXY_MAX_SIDE, max_bytes: int, max_pixels: int) -> tuple[bytes, int, int]:
    """An upright JPEG of at most ``max_side`` a side, and the picture's full upright width and height.

    For the editor: browsers cannot show HEIC or TIFF, and should not decode 48 MP in full. A JPEG is decoded
    at a reduced scale (``draft``); any picture is scaled before it is turned, so it is copied in full only once.
    """
    image = _open_checked(data, what="picture", max_bytes=max_bytes, max_pixels=max_pixels)
    orientation = _orientation(image, "picture")
    full_width, full_height = _upright_size(image, orientation)
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max_side, max_side))
    _decode(image, "picture")
    # RGB before scaling (Pillow scales RGBA through a premultiplied copy), scaled before turning (the bound is square).
    rgb, icc_profile = _as_rgb(_flatten_on_white(image) if _has_transparency(image) else image,
                               image.info.get("icc_profile"))
    del image
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _encode(_upright(rgb, orientation), "JPEG", icc_profile, quality=90, subsampling=2), full_width, full_height


def open_rgb(data: bytes) -> Image.Image:
    """A stored (upright, opaque) picture as RGB, its profile in ``info``; opened as at upload (no bomb warning)."""
    image = _open_lazily(data, "picture")
    _decode(image, "picture")
    rgb, icc_profile = _as_rgb(image, image.info.get("icc_profile"))
    rgb.info = {"icc_profile": icc_profile} if icc_profile else {}  # only a profile that describes the pixels
    return rgb


def open_mask(data: bytes) -> Image.Image:
    image = _open_lazily(data, "mask")
    _decode(image, "mask")
    return image if image.mode == "L" else image.convert("L")


def picture_upright_size(data: bytes) -> tuple[int, int]:
    """The picture's size as shown, turned upright, from its header alone; raises ImageRefused if it is no picture."""
    image = _open_lazily(data, "picture")
    return _upright_size(image, _orientation(image, "picture"))


def encode_png(image: Image.Image, *, icc_profile: bytes | None = None) -> bytes:
    return _encode(image, "PNG", icc_profile or image.info.get("icc_profile"))


def whole_mask(size: tuple[int, int]) -> bytes:
    """The stored mask of a function sent the whole picture (an extension, an upscale): all of it is the model's."""
    return encode_png(Image.new("L", size, 255))


def picture_part(data: bytes, box: tuple[int, int, int, int]) -> bytes:
    """The part ``box`` (left, top, right, bottom) of a stored picture at its own pixels, as a PNG."""
    with Image.open(io.BytesIO(data)) as image:
        return encode_png(image.crop(box), icc_profile=image.info.get("icc_profile"))


def encode_jpeg(image: Image.Image) -> bytes:
    return _encode(image.convert("RGB"), "JPEG", image.info.get("icc_profile"))


def picture_extension(content: bytes) -> str | None:
    """The file extension of a picture an engine returned, or None when it is not a readable picture."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            return {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "BMP": "bmp"}.get(image.format)
    except Exception:  # noqa: BLE001 - anything that is not a readable picture
        return None


def result_as_jpeg(png_bytes: bytes) -> bytes:
    """A finished picture as a JPEG at quality 95 for photos: transparency flattened on white, profile kept."""
    image = Image.open(io.BytesIO(png_bytes))
    rgb, icc_profile = _as_rgb(_flatten_on_white(image) if _has_transparency(image) else image,
                               image.info.get("icc_profile"))
    return _encode(rgb, "JPEG", icc_profile)


def with_alpha(picture: Image.Image, *, alpha_png: bytes, solid: Image.Image | None = None) -> Image.Image:
    """The picture given back the original transparency, opaque wherever ``solid`` (the mask) repainted:
    what was painted there is new content."""
    alpha = open_mask(alpha_png)
    if alpha.size != picture.size:
        alpha = alpha.resize(picture.size, Image.Resampling.BILINEAR)
    if solid is not None:
        alpha = ImageChops.lighter(alpha, solid.resize(picture.size, Image.Resampling.BILINEAR))
    rgba = picture.convert("RGBA")
    rgba.putalpha(alpha)
    rgba.info.update(picture.info)
    return rgba


def with_transparency(content: bytes, *, alpha_png: bytes) -> bytes:
    """A stored picture given back its transparency, as a PNG (how the page shows and reuses it)."""
    picture = open_rgb(content)
    return encode_png(with_alpha(picture, alpha_png=alpha_png))


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None, **options) -> bytes:
    if fmt == "PNG" and image.mode in png_encode.COLOUR_TYPES:
        return png_encode.png_encode(image, icc_profile, level=PNG_COMPRESS_LEVEL)
    buffer = io.BytesIO()
    if icc_profile:
        options["icc_profile"] = icc_profile
    if fmt == "JPEG":
        options = {"quality": JPEG_QUALITY, "subsampling": 0, **options}
    else:
        options.update(optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _binarise(image: Image.Image, mask_color: list[list[int]]) -> Image.Image:
    """255 where the mask says repaint, 0 elsewhere."""
    if mask_color:
        return mask_colours_select(image if image.mode == "RGB" else image.convert("RGB"), mask_color)
    if _has_transparency(image):
        # A painted overlay exported with transparency: painted pixels are the opaque ones.
        return image.convert("RGBA").getchannel("A").point(_THRESHOLD)
    return (image if image.mode == "L" else image.convert("L")).point(_THRESHOLD)


def prepare_mask(data: bytes, *, base_size: tuple[int, int], mask_color: list[list[int]] | None = None,
                 max_bytes: int, max_pixels: int) -> bytes:
    """Turn an uploaded mask into the stored form: an 8-bit PNG the picture's size, 255 = repaint.

    The mask may be a scaled copy of the picture's shape (the editor paints on a proxy of a big
    photo); it is scaled to the picture nearest-neighbour and stays pure black and white. A mask
    already in the stored form (what the editor sends for most photos) is kept byte for byte.
    """
    if len(mask_color or []) > MAX_MASK_COLOURS:
        raise ImageRefused(_("The mask names %(count)d mask colours; at most %(limit)d are allowed.")
                           % {"count": len(mask_color), "limit": MAX_MASK_COLOURS})
    image = _open_checked(data, what="mask", max_bytes=max_bytes, max_pixels=max_pixels)
    _decode(image, "mask")
    orientation = _orientation(image, "mask")
    if orientation == 1 and not mask_color and _in_stored_form(image, base_size):
        return data
    mask = _binarise(image, mask_color or [])
    del image  # a 100 MP colour mask is made one 8-bit channel, and freed, before it is turned
    mask = _upright(mask, orientation)
    if mask.size != base_size:
        mask = _fit_mask(mask, base_size)
    if mask.getextrema()[1] == 0:
        raise ImageRefused(_("The mask has no pixels of the chosen mask colours; paint the area you want to change "
                             "or check the colours.") if mask_color else _("The mask is empty: paint the area you want "
                                                                           "to change."))
    return _encode(mask, "PNG", None)


def _in_stored_form(image: Image.Image, base_size: tuple[int, int]) -> bool:
    """An 8-bit grey PNG of the picture's size with only 0 and 255 in it, and some 255."""
    if (image.format, image.mode, image.size) != ("PNG", "L", base_size) or "transparency" in image.info:
        return False
    histogram = image.histogram()
    return histogram[255] > 0 and histogram[0] + histogram[255] == image.width * image.height


def _fit_mask(mask: Image.Image, base_size: tuple[int, int]) -> Image.Image:
    (mask_w, mask_h), (base_w, base_h) = mask.size, base_size
    if abs((mask_w / mask_h) / (base_w / base_h) - 1) > MASK_ASPECT_TOLERANCE:
        raise ImageRefused(_("The mask is %(mask_width)d × %(mask_height)d pixels but the picture is %(width)d × "
                             "%(height)d; the mask must have the picture's shape.")
                           % {"mask_width": mask_w, "mask_height": mask_h, "width": base_w, "height": base_h})
    return mask.resize(base_size, Image.Resampling.NEAREST)
