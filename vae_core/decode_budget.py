"""What decoding an image file will hold in memory, judged from its header before a pixel is decoded: the picture at
the bytes Pillow stores per pixel, plus what each format's decoder keeps beside it (measured on Pillow 13.0 by
bench/bench_upload_memory.py). ``image_reader`` refuses a file whose total is over its budget, saying why."""

from __future__ import annotations

import math
import struct
from typing import NamedTuple

from PIL import Image, PngImagePlugin

_MB = 1024 * 1024
_RESIZE = "resize it (1000 pixels across is plenty)"


class DecodeCost(NamedTuple):
    """One part of what decoding will hold in memory, worded for the user, with what they can do about it."""

    nbytes: int
    what: str
    advice: str


def decode_costs(img: Image.Image, fmt: str, data: bytes, width: int, height: int) -> list[DecodeCost]:
    """What decoding the first frame of ``img`` (opened, maybe drafted, not loaded) will hold in memory at its peak.

    ``width`` x ``height`` is the picture's full size in the file; ``img.size`` is what will be decoded.
    """
    w, h = img.size
    per_pixel = 1 if img.mode in ("1", "L", "P") else 2 if img.mode.startswith("I;16") else 4  # RGB is padded to 4
    picture = w * h * per_pixel
    costs = [DecodeCost(picture, f"{w} x {h} pixels at {per_pixel} bytes each", _RESIZE)]
    if fmt == "WEBP":  # libwebp's animation decoder (Pillow's only one) keeps two canvases, handed over as bytes
        costs.append(
            DecodeCost(12 * w * h, "WEBP decoding holds three more copies", f"save it as PNG or JPEG, or {_RESIZE}")
        )
    elif fmt == "JPEG" and (coefficients := _jpeg_coefficient_bytes(img, data, width, height)):
        costs.append(
            DecodeCost(
                coefficients,
                "a progressive JPEG is decoded from all its coefficients at once",
                f"save it as a standard (baseline) JPEG or as PNG, or {_RESIZE}",
            )
        )
    elif fmt == "BMP" and _bmp_run_length(data):  # Pillow's RLE decoder, in Python, expands it twice on the way
        costs.append(DecodeCost(2 * picture, "a run-length BMP is expanded twice", f"save it as PNG, or {_RESIZE}"))
    return costs


def _bmp_run_length(data: bytes) -> bool:
    """True for an RLE8 or RLE4 BMP (compression 1 or 2 in a header of 40 bytes or more)."""
    return (
        len(data) >= 34
        and struct.unpack_from("<I", data, 14)[0] >= 40
        and struct.unpack_from("<I", data, 30)[0] in (1, 2)
    )


def _jpeg_coefficient_bytes(img: Image.Image, data: bytes, width: int, height: int) -> int:
    """The DCT coefficients libjpeg keeps for the whole picture (2 bytes each, 64 per 8x8 block of each component at
    its own sampling, whatever the draft scale) when it comes in several scans: progressive, or a first scan that
    does not carry every component. 0 for a baseline JPEG, decoded a strip at a time."""
    layers = getattr(img, "layer", None) or [(0, 1, 1, 0)] * len(img.getbands())  # (id, h, v, table) per component
    if "progressive" not in img.info and _first_scan_components(data) == len(layers):
        return 0
    h_max, v_max = max(max(1, layer[1]) for layer in layers), max(max(1, layer[2]) for layer in layers)
    blocks = sum(
        math.ceil(width * max(1, layer[1]) / h_max / 8) * math.ceil(height * max(1, layer[2]) / v_max / 8)
        for layer in layers
    )
    return blocks * 64 * 2


def _first_scan_components(data: bytes) -> int:
    """How many components the first scan (SOS marker) carries; 0 if the marker segments before it cannot be walked."""
    pos = 2
    while pos + 5 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xDA:
            return data[pos + 4]
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return 0


def png_text_cost(data: bytes) -> DecodeCost:
    """Memory a PNG's text chunks can take once Pillow has read them (which it does on opening the file): each is
    inflated up to PngImagePlugin.MAX_TEXT_CHUNK (zlib expands at most 1032-fold) and kept as bytes and as a str of
    up to 4 bytes a character. Walks the chunk headers only; 0 bytes for any other file."""
    total, pos = 0, 8
    while data.startswith(b"\x89PNG\r\n\x1a\n") and pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        length = min(length, len(data) - pos - 8)  # a chunk cut off is read (and inflated) as far as it goes
        if kind == b"tEXt":
            total += 5 * length
        elif kind in (b"zTXt", b"iTXt"):
            total += 5 * max(length, min(PngImagePlugin.MAX_TEXT_CHUNK, 1032 * length))
        elif kind == b"IEND":
            break
        pos += 12 + length
    return DecodeCost(total, "its text chunks (metadata) once inflated", "save it again without its text metadata")


def over_budget_message(costs: list[DecodeCost], budget: int) -> str:
    """The refusal of a file whose decoding would cost more than ``budget`` bytes, part by part."""
    parts = "; ".join(f"{cost.what} ({cost.nbytes / _MB:.0f} MB)" for cost in costs if cost.nbytes)
    return (
        f"This image would need about {sum(cost.nbytes for cost in costs) / _MB:.0f} MB of memory to decode, more than "
        f"the {budget / _MB:g} MB allowed per upload: {parts}. "
        f"Please {max(costs, key=lambda cost: cost.nbytes).advice}, and upload it again."
    )
