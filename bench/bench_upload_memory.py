"""Benchmark: peak server memory for one upload (issue 11, item 5), for the worst files each format allows.

Each case is a file a hostile or unlucky user could upload: small on the wire (the byte cap is 5 MB) but as large as
possible once decoded. For each format the bench tries sizes from the pixel cap (16 megapixels) down and, where the
memory budget refuses the larger ones, bisects to the largest size ``read_image`` accepts: each row is the worst
accepted file, not a guess at one. The smallest refused size is measured too, since refusing must be cheap as well.

Each file is measured in a fresh Python process that has already imported ``vae_core`` and run one small upload of
every format (plugins loaded, first-call allocations made): that process's resident memory is "idle". Its peak
resident memory during ``preprocess_upload(data)`` (VmHWM, reset just before the call through /proc/self/clear_refs,
so Linux only) minus idle is the figure, in MB of 2^20 bytes, beside the target: at most 150 MB above idle for any
accepted file.

    python bench/bench_upload_memory.py [--only png16,jpeg-prog,...]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vae_core.preprocess import ImageRejected, read_image  # noqa: E402 - after the repo is on sys.path

TARGET_MB = 150.0
SIDES = (4000, 3000, 2500, 2000, 1500)  # largest first; 4000 x 4000 is the pixel cap (16 MP)


# ---- the files --------------------------------------------------------------------------------------------


def _digit(width: int, height: int) -> np.ndarray:
    """A bool mask of a "1" (a bar with a flag) filling the middle of a width x height frame."""
    mask = np.zeros((height, width), dtype=bool)
    top, bottom = height // 6, height * 5 // 6
    mid, bar = width // 2, max(2, width // 14)
    mask[top:bottom, mid : mid + bar] = True
    mask[top : top + bar, mid - 2 * bar : mid] = True
    return mask


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_rgba16(side: int) -> bytes:
    """A 16-bit RGBA PNG (Pillow cannot write one): black ink on a transparent background, ~160 kB at 16 MP."""
    ink = _digit(side, side)
    transparent = b"\x00" + bytes(8 * side)  # filter byte 0, then RGBA 16-bit zeros
    compressor, parts = zlib.compressobj(6), []
    pixel = np.zeros((side, 4), dtype=">u2")
    for y in range(side):
        if not ink[y].any():
            parts.append(compressor.compress(transparent))
            continue
        pixel[:, 3] = np.where(ink[y], 65535, 0)
        parts.append(compressor.compress(b"\x00" + pixel.tobytes()))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def png_rgb(side: int) -> bytes:
    rgb = np.full((side, side, 3), 230, dtype=np.uint8)
    rgb[_digit(side, side)] = (20, 30, 40)
    return _encode(Image.fromarray(rgb), "PNG")


def png_gray16(side: int) -> bytes:
    gray = np.where(_digit(side, side), 0, 60000).astype(np.uint16)
    return _encode(Image.fromarray(gray), "PNG")


def png_text(chunks: int) -> bytes:
    """A 64 x 64 PNG carrying compressed text chunks, each 1 MB once inflated (Pillow's limit per chunk; 64 is its
    limit in total), holding one character outside Unicode's first plane so Python stores each character in 4 bytes."""
    body = png_rgb(64)
    text = zlib.compress(("\U0001f600" + "x" * (1024 * 1024 - 4)).encode(), 9)
    itxt = b"".join(_chunk(b"iTXt", f"key{i}".encode() + b"\x00\x01\x00\x00\x00" + text) for i in range(chunks))
    return body[:33] + itxt + body[33:]  # after the 8-byte signature and the 25-byte IHDR chunk


def jpeg_phone(side: int) -> bytes:
    """A phone photo (side x 3/4 side, 4:2:0, quality 90): 4032 is 12 megapixels."""
    gray = np.where(_digit(side, side * 3 // 4), 20, 230).astype(np.uint8)
    rgb = np.stack([gray, gray, gray], axis=2)
    return _encode(Image.fromarray(rgb), "JPEG", quality=90)


def jpeg_progressive(side: int) -> bytes:
    """Progressive with full-resolution colour (4:4:4): libjpeg keeps every DCT coefficient of the whole picture."""
    gray = np.where(_digit(side, side), 20, 230).astype(np.uint8)
    rgb = np.stack([gray, gray, gray], axis=2)
    return _encode(Image.fromarray(rgb), "JPEG", quality=75, progressive=True, subsampling=0)


def jpeg_progressive_cmyk(side: int) -> bytes:
    gray = np.where(_digit(side, side), 20, 230).astype(np.uint8)
    return _encode(Image.fromarray(gray).convert("CMYK"), "JPEG", quality=75, progressive=True)


def gif_animated(side: int) -> bytes:
    """64 frames, each a different picture (so Pillow keeps them all): the bar moves."""
    frames = []
    for i in range(64):
        frame = np.zeros((side, side), dtype=np.uint8)
        frame[side // 6 : side * 5 // 6, i * side // 80 : i * side // 80 + side // 14] = 255
        frames.append(Image.fromarray(frame))
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def bmp_rle8(side: int) -> bytes:
    """An 8-bit run-length-encoded BMP (Pillow cannot write one): runs of 255 pixels make it ~1/128 of its size."""
    ink = _digit(side, side)
    rows = []
    for y in range(side - 1, -1, -1):  # bottom-up
        runs, x = bytearray(), 0
        while x < side:
            value = ink[y, x]
            n = 1
            while x + n < side and n < 255 and ink[y, x + n] == value:
                n += 1
            runs += bytes((n, 1 if value else 0))
            x += n
        rows.append(bytes(runs) + b"\x00\x00")
    pixels = b"".join(rows) + b"\x00\x01"
    palette = b"\xe6\xe6\xe6\x00" + b"\x14\x14\x14\x00" + bytes(4 * 254)
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + palette + pixels


def bmp_1bit(side: int) -> bytes:
    return _encode(Image.fromarray(~_digit(side, side)).convert("1"), "BMP")


def webp_lossless(side: int) -> bytes:
    gray = np.where(_digit(side, side), 20, 230).astype(np.uint8)
    return _encode(Image.fromarray(gray).convert("RGB"), "WEBP", lossless=True)


def webp_animated(side: int) -> bytes:
    frames = []
    for i in range(8):
        gray = np.full((side, side), 230, dtype=np.uint8)
        gray[side // 6 : side * 5 // 6, i * side // 10 : i * side // 10 + side // 14] = 20
        frames.append(Image.fromarray(gray).convert("RGBA"))
    return _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=50)


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    make: Callable[[int], bytes]
    sizes: tuple[int, ...] = SIDES  # the argument of ``make``, tried in order


CASES = (
    Case("png16", "PNG 16-bit RGBA (issue 11)", png_rgba16),
    Case("png16-full", "PNG 16-bit RGBA, kept full size", png_rgba16, (2049,)),  # just under 2 x 1025: not reduced
    Case("png-rgb", "PNG 8-bit RGB", png_rgb),
    Case("png-gray16", "PNG 16-bit gray", png_gray16),
    Case("png-text", "PNG + {n} MB of text chunks", png_text, (64, 32, 16, 8)),
    Case("jpeg-phone", "JPEG phone photo 4:3", jpeg_phone, (4032,)),
    Case("jpeg-prog", "JPEG progressive 4:4:4", jpeg_progressive),
    Case("jpeg-cmyk", "JPEG progressive CMYK", jpeg_progressive_cmyk),
    Case("gif", "GIF, 64 frames", gif_animated),
    Case("bmp-rle", "BMP 8-bit RLE", bmp_rle8),
    Case("bmp-1bit", "BMP 1-bit", bmp_1bit),
    Case("webp", "WEBP lossless", webp_lossless),
    Case("webp-full", "WEBP lossless, kept full size", webp_lossless, (2049,)),
    Case("webp-anim", "WEBP animated, 8 frames", webp_animated),
)


# ---- measuring ----------------------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert match is not None, field
    return int(match.group(1))


def _child(path: str) -> None:
    """Runs in a fresh process: warm up, then measure one ``preprocess_upload``; prints a JSON line."""
    import gc

    from vae_core.preprocess import preprocess_upload

    small = Image.fromarray(np.where(_digit(64, 64), 0, 255).astype(np.uint8))
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP"):
        preprocess_upload(_encode(small, fmt))
    data = Path(path).read_bytes()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (the peak) to the current resident size
    idle_kb = _status_kb("VmRSS")
    start = time.perf_counter()
    try:
        preprocess_upload(data)
        outcome = "accepted"
    except ImageRejected as exc:
        outcome = f"refused: {exc}"
    seconds = time.perf_counter() - start
    peak_kb = _status_kb("VmHWM")
    print(json.dumps({"peak_mb": (peak_kb - idle_kb) / 1024, "outcome": outcome, "seconds": seconds}))


def _measure(data: bytes, folder: Path) -> dict:
    path = folder / "upload.bin"
    path.write_bytes(data)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True, cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _files(case: Case) -> list[tuple[int, bytes]]:
    """The largest size ``read_image`` accepts and the next larger one (refused), or the smallest tried if every
    size is refused: the worst file a user can get through, and what refusing costs. Between an accepted size and a
    refused one in ``case.sizes``, bisects to within 1%, so the worst file sits at the edge of the memory budget."""
    accepted: tuple[int, bytes] | None = None
    refused: tuple[int, bytes] | None = None
    for size in case.sizes:
        data = case.make(size)
        if _accepted(data):
            accepted = (size, data)
            break
        refused = (size, data)
    while accepted and refused and refused[0] - accepted[0] > max(1, accepted[0] // 100):
        middle = (accepted[0] + refused[0]) // 2
        data = case.make(middle)
        if _accepted(data):
            accepted = (middle, data)
        else:
            refused = (middle, data)
    return [pair for pair in (accepted, refused) if pair is not None]


def _accepted(data: bytes) -> bool:
    try:
        read_image(data)
    except ImageRejected:
        return False
    return True


def _kb(nbytes: int) -> str:
    return f"{nbytes / 1024:.1f}k" if nbytes < 10 * 1024 else f"{nbytes / 1024:.0f}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated case keys: " + ",".join(c.key for c in CASES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    keys = set(args.only.split(",")) if args.only else {c.key for c in CASES}
    header = f"{'file':31} {'pixels':>9} {'bytes':>6} {'outcome':8} {'peak MB':>7} {'target':>9} {'time':>6}"
    print(header, "-" * len(header), sep="\n")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for case in (c for c in CASES if c.key in keys):
            for size, data in _files(case):
                result = _measure(data, Path(tmp))
                accepted = result["outcome"] == "accepted"
                if accepted:
                    worst = max(worst, result["peak_mb"])
                verdict = "ok" if result["peak_mb"] <= TARGET_MB else "OVER"
                pixels = "x".join(map(str, Image.open(io.BytesIO(data)).size))
                print(
                    f"{case.name.format(n=size):31} {pixels:>9} {_kb(len(data)):>6} "
                    f"{'accepted' if accepted else 'refused':8} {result['peak_mb']:7.1f} "
                    f"<= {TARGET_MB:3.0f} {verdict:4} {result['seconds']:5.2f}s"
                )
                if not accepted:
                    print(textwrap.indent(textwrap.fill(result["outcome"], 112), "      "))
    print(f"\nworst accepted upload: {worst:.1f} MB above idle (target <= {TARGET_MB:.0f} MB)")


if __name__ == "__main__":
    main()
