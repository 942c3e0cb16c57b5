"""An uploaded file's bytes -> a grayscale Pillow image, safely: every limit is judged before a pixel is decoded.

A file is judged by its content, never its name: a byte cap before Pillow sees it, an explicit format allowlist, a
pixel cap read from the header, and a memory budget, also judged from the header: the decoded picture (width x
height x the bytes Pillow stores per pixel of its mode) plus what the format's decoder holds beside it (libwebp's
canvases, a multi-scan JPEG's coefficients, a run-length BMP's buffers, a PNG's text). Only the first frame of an
animation is ever decoded. Decompression bombs are errors, and truncated files are rejected at ``load()`` (Pillow's
``ImageFile.LOAD_TRUNCATED_IMAGES`` is left False). Every refusal is an ``ImageRejected`` whose message says what was
wrong and what to do instead, never Pillow's own text.

Once decoded, the picture is turned to gray a band of rows at a time, box-averaged by a whole factor on the way
when it is over twice the working size: beyond the decoded picture, memory stays a few MB whatever its size or mode.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import ExifTags, Image, features

from .decode_budget import decode_costs, over_budget_message, png_text_cost

MAX_UPLOAD_BYTES: int = 5 * 1024 * 1024
MAX_PIXELS: int = 16_000_000  # judged from the header before decoding; keep below Pillow's MAX_IMAGE_PIXELS
# The decoded picture plus what its decoder holds beside it. Any 16-megapixel picture fits (RGBA takes 61 MB); a
# decoder's extra copies (a large WEBP or progressive JPEG) or a PNG's text may not. Turning it gray adds ~20 MB at
# most: bench/bench_upload_memory.py measures <= 96 MB above idle for one upload (the target is 150).
MAX_DECODE_BYTES: int = 96 * 1024 * 1024
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
WORK_SIDE = 1024  # preprocess_digit works at most at this size (a 20x20 target needs no more): reading stays above it

_FORMATS_TEXT = "PNG, JPEG, GIF, BMP or WEBP"
_MB = 1024 * 1024
_RESIZE = "resize it (1000 pixels across is plenty)"
_BAND_PIXELS = 1 << 18  # pixels turned to gray at a time: a few MB of temporaries
# Pillow opens a JPEG carrying an MPF block (many phones and cameras write one) as "MPO", even when asked for
# JPEG only. It is a JPEG; we use its first picture.
_FORMAT_ALIASES = {"MPO": "JPEG"}
# Magic bytes, used only to word the message when Pillow (limited to the allowlist) cannot open a file.
_ALLOWED_MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"BM", "BMP"))
_UNSUPPORTED_MAGIC = (
    (b"II*\x00", "TIFF images"),
    (b"MM\x00*", "TIFF images"),
    (b"II+\x00", "TIFF images"),
    (b"MM\x00+", "TIFF images"),
    (b"8BPS", "Photoshop (PSD) files"),
    (b"%PDF", "PDF documents"),
    (b"%!PS", "PostScript files"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 images"),
    (b"\xffO\xffQ", "JPEG 2000 images"),
    (b"qoif", "QOI images"),
    (b"\x00\x00\x01\x00", "Windows icon (ICO) files"),
    (b"PK\x03\x04", "ZIP archives"),
)
_HEIF_BRANDS = {b"heic": "HEIC photos", b"heix": "HEIC photos", b"mif1": "HEIF images", b"avif": "AVIF images"}
# EXIF orientation -> the turn that stands the picture up (the table of Pillow's ImageOps.exif_transpose)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageRejected(ValueError):
    """A user-facing message: what was wrong with the file and what to do instead."""


def read_image(
    data: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_decode_bytes: int = MAX_DECODE_BYTES,
) -> Image.Image:
    """Decode an uploaded file into a grayscale ("L") image, refusing anything unsafe, unreadable or too costly.

    The first frame of an animation is used, EXIF orientation is applied, 16-bit images are scaled (not clipped)
    to 8 bits, and transparent areas are filled with white or black, whichever contrasts with the opaque pixels.
    A picture over twice the working size comes back box-averaged by a whole factor (a JPEG is decoded at a reduced
    scale instead), its longer side still above ``WORK_SIDE``. Raises ``ImageRejected`` with a message for the user.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"read_image needs the file's bytes (got {type(data).__name__})")
    data = bytes(data)
    if not data:
        raise ImageRejected(f"The file is empty (0 bytes). Please choose an image file: {_FORMATS_TEXT}.")
    if len(data) > max_bytes:
        raise ImageRejected(
            f"The file is {len(data) / _MB:.1f} MB; the limit is {max_bytes / _MB:g} MB. "
            "Please upload a smaller image (a photo of one digit needs far less)."
        )
    text = png_text_cost(data)  # Pillow inflates a PNG's text while opening it: judged before
    if text.nbytes > max_decode_bytes:
        raise ImageRejected(over_budget_message([text], max_decode_bytes))
    too_large = (
        f"The image is too large: the limit is {max_pixels / 1e6:g} megapixels. "
        "Please resize it (1000 pixels across is plenty) and upload it again."
    )
    # Restored on exit, and Pillow's own settings are untouched. (Before Python 3.14 this is not thread-safe, but
    # nothing here depends on it: the pixel cap below is lower than the limit at which Pillow warns.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow's remarks on a user's corrupt EXIF: not ours to log
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageRejected(too_large) from exc
        except Exception as exc:  # Pillow reports unreadable input with many exception types
            raise ImageRejected(_unreadable_message(data)) from exc
        fmt = _FORMAT_ALIASES.get(img.format or "", img.format)
        if fmt not in ALLOWED_FORMATS:  # belt and braces: the allowlist above should make this impossible
            raise ImageRejected(f"{fmt} images are not supported; please upload {_FORMATS_TEXT} instead.")
        width, height = img.size  # from the header (first frame only); no pixel has been decoded yet
        if width * height > max_pixels:
            raise ImageRejected(
                f"The image is {width} x {height} pixels ({width * height / 1e6:.1f} megapixels); "
                f"the limit is {max_pixels / 1e6:g} megapixels. Please resize it and upload it again."
            )
        damaged = (
            f"The {fmt} file is damaged or incomplete (perhaps cut off while uploading). "
            "Please save it again and re-upload it."
        )
        try:
            if fmt == "JPEG" and max(width, height) > WORK_SIDE:
                # A phone photo: libjpeg decodes at 1/2, 1/4 or 1/8 scale directly, 4-16x less time and memory than
                # the full picture. Asked for one pixel more than the working size, so preprocess_digit still reduces
                # it (area-averaged, and said in its note) exactly as it does any large image.
                scale = (WORK_SIDE + 1) / max(width, height)
                img.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
            costs = [*decode_costs(img, fmt, data, width, height), text]
        except Exception as exc:
            raise ImageRejected(damaged) from exc
        if sum(cost.nbytes for cost in costs) > max_decode_bytes:
            raise ImageRejected(over_budget_message(costs, max_decode_bytes))
        try:
            img.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageRejected(too_large) from exc
        except Exception as exc:
            raise ImageRejected(damaged) from exc
        gray = to_gray(img, min_side=WORK_SIDE + 1)
        np.round(np.multiply(gray, 255, out=gray), out=gray)  # in place: a picture kept at full size is 4.2 MP
        return _upright(Image.fromarray(gray.astype(np.uint8)), img)


def _upright(gray: Image.Image, source: Image.Image) -> Image.Image:
    """Turn ``gray`` as the EXIF (or XMP) orientation of ``source`` says: a phone's sideways photo stands up."""
    try:
        orientation = source.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a malformed EXIF block is ignored, whatever Pillow raises on it
        return gray
    turn = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return gray.transpose(turn) if turn is not None else gray


def _unreadable_message(data: bytes) -> str:
    """Word the refusal of a file Pillow could not open, from what its first bytes say it is."""
    head = data[:64]
    for magic, name in _ALLOWED_MAGIC:
        if head.startswith(magic):
            return f"The file looks like a {name} but is damaged or incomplete. Please save it again and re-upload it."
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        if not features.check("webp"):
            return "WEBP images cannot be read on this server; please upload PNG or JPEG instead."
        return "The file looks like a WEBP but is damaged or incomplete. Please save it again and re-upload it."
    kind = next((name for magic, name in _UNSUPPORTED_MAGIC if head.startswith(magic)), None)
    if kind is None and head[4:8] == b"ftyp":
        kind = _HEIF_BRANDS.get(head[8:12], "HEIF/MP4 files")
    if kind is None and b"<svg" in data[:2048].lower():
        kind = "SVG drawings"
    if kind is not None:
        return f"{kind} are not supported; please upload {_FORMATS_TEXT} instead."
    if _looks_like_text(data[:1024]):
        return f"This file contains text, not a picture (was it renamed?). Please upload {_FORMATS_TEXT}."
    return f"This file is not an image in a format we accept. Please upload {_FORMATS_TEXT}."


def _looks_like_text(sample: bytes) -> bool:
    """True if ``sample`` decodes as UTF-8 (allowing a character cut at the end) and is all printable."""
    for cut in range(4):
        try:
            text = sample[: len(sample) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
    return False


def to_gray(img: Image.Image, *, min_side: int | None = None) -> np.ndarray:
    """Any Pillow image -> float32 luminance in [0, 1], transparency filled with a contrasting background.

    With ``min_side``, a picture at least twice that on its longer side is box-averaged by a whole factor, its
    longer side staying >= ``min_side``. Converted a band of rows at a time, so memory beyond the decoded picture
    stays a few MB whatever its size or mode.
    """
    width, height = img.size
    factor = max(1, max(width, height) // min_side) if min_side else 1
    out_shape = (math.ceil(height / factor), math.ceil(width / factor))
    if width == 0 or height == 0:
        return np.zeros(out_shape, dtype=np.float32)
    rows = factor * max(1, _BAND_PIXELS // (width * factor))  # a whole number of boxes
    gray = np.empty(out_shape, dtype=np.float32)
    alpha: np.ndarray | None = None
    for top in range(0, height, rows):
        band_gray, band_alpha = _gray_and_alpha(img.crop((0, top, width, min(height, top + rows))))
        out = slice(top // factor, math.ceil(min(height, top + rows) / factor))
        if band_alpha is not None:
            band_gray = band_gray * band_alpha  # premultiplied: box-averaging commutes with filling the background
            if alpha is None:
                alpha = np.ones(out_shape, dtype=np.float32)
            alpha[out] = _reduce(band_alpha, factor)
        gray[out] = _reduce(band_gray, factor)
    if alpha is None or alpha.min() >= 1.0:
        return gray
    opaque = float(alpha.sum())
    ink_level = float(gray.sum()) / opaque if opaque > 0 else 0.0
    if ink_level < 0.5:  # dark ink: a white background shows through, in place (else black: nothing to add)
        gray += np.subtract(1.0, alpha, out=alpha)
    return gray


def _reduce(image: np.ndarray, factor: int) -> np.ndarray:
    """Box-average a float32 image by a whole factor (Pillow's reduce; a box cut by the edge averages what it has)."""
    return image if factor == 1 else np.asarray(Image.fromarray(image).reduce(factor), dtype=np.float32)


def _gray_and_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Any Pillow image -> float32 luminance and opacity in [0, 1] (opacity None when the mode has none)."""
    alpha: np.ndarray | None = None
    if img.mode.startswith("I"):  # 16/32-bit gray; Pillow's convert("L") would clip at 255, not scale
        raw = np.asarray(img)
        gray = np.clip(raw.astype(np.float32) / 65535.0, 0.0, 1.0)
        if isinstance(img.info.get("transparency"), int):
            alpha = (raw != img.info["transparency"]).astype(np.float32)
    elif img.mode == "F":
        gray = np.clip(np.nan_to_num(np.asarray(img, dtype=np.float32)), 0.0, 1.0)
    elif img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        gray = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    else:
        try:
            gray_img = img.convert("L")
        except ValueError:  # a mode with no direct route to L (e.g. LAB, HSV)
            gray_img = img.convert("RGB").convert("L")
        gray = np.asarray(gray_img, dtype=np.float32) / 255.0
    return gray.astype(np.float32, copy=False), alpha
