"""What the image reader promises for any uploaded bytes: an image or a message, within a memory budget.

Any bytes give a grayscale image or an ``ImageRejected`` with a message, never another exception. Property-based
(hypothesis): random bytes, random bytes behind each format's magic, and valid small files of every allowed format
(made here with Pillow, in the modes a user's software writes) with bytes flipped, overwritten, inserted, deleted,
duplicated or cut off. For PNG the chunk checksums are sometimes recomputed after mutating, so the damage reaches
the decoder instead of stopping at the first bad CRC.

Files small on the wire but large once decoded (issue 11) are read within the memory budget or refused, saying why.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

from vae_core.preprocess import MAX_DECODE_BYTES, ImageRejected, preprocess_digit, preprocess_upload, read_image

EXAMPLES = 2000  # per reader: random bytes, and mutated files of each format
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"GIF87a", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8L")


def _check(data: bytes) -> None:
    """The property: read and prepare ``data``; the only failure allowed is our own, worded for the user."""
    try:
        img = read_image(data)
    except ImageRejected as exc:
        assert type(exc) is ImageRejected and str(exc).endswith(".")
        return
    assert img.mode == "L"
    try:
        result = preprocess_digit(img)
    except ImageRejected as exc:
        assert type(exc) is ImageRejected and str(exc).endswith(".")
        return
    assert result.image.shape == (28, 28) and np.isfinite(result.image).all()


# ---- valid seeds ----------------------------------------------------------------------------------------------


def _digit(mode: str = "L", size: tuple[int, int] = (20, 24)) -> Image.Image:
    gray = np.full(size[::-1], 230, dtype=np.uint8)
    gray[4:20, 9:12] = 20
    gray[4:7, 5:9] = 20
    return Image.fromarray(gray).convert(mode)


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _rle8_bmp() -> bytes:
    """A 12 x 10 8-bit run-length-encoded BMP (Pillow cannot write one), with runs, a delta and an absolute run."""
    rows = [bytes((12, 0)) + b"\x00\x00"] * 3 + [bytes((4, 0, 4, 1, 4, 0)) + b"\x00\x00"] * 5
    pixels = b"".join(rows) + b"\x00\x02\x02\x01" + b"\x00\x04\x01\x00\x01\x00" + b"\x00\x00\x00\x01"
    palette = b"\xe6\xe6\xe6\x00\x14\x14\x14\x00" + bytes(4 * 254)
    info = struct.pack("<IiiHHIIiiII", 40, 12, 10, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + palette + pixels


def _seeds() -> dict[str, list[bytes]]:
    rgba = np.zeros((24, 20, 4), dtype=np.uint8)
    rgba[4:20, 9:12, 3] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    two_frames = [_digit("P"), _digit("P").transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    text = _png_chunk(b"tEXt", b"Software\x00test") + _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"hi"))
    plain = _encode(_digit(), "PNG")
    seeds = {
        "PNG": [
            plain,
            plain[:33] + text + plain[33:],
            _encode(Image.fromarray(rgba), "PNG"),
            _encode(_digit("P"), "PNG", transparency=0),
            _encode(Image.fromarray(np.asarray(_digit()).astype(np.uint16) * 257), "PNG"),
            _encode(_digit("1"), "PNG"),
            _encode(_digit("LA"), "PNG"),
            _encode(_digit("RGB"), "PNG", exif=exif),
            _encode(two_frames[0], "PNG", save_all=True, append_images=two_frames[1:]),
        ],
        "JPEG": [
            _encode(_digit("RGB"), "JPEG", quality=90),
            _encode(_digit("RGB"), "JPEG", quality=90, progressive=True),
            _encode(_digit(), "JPEG"),
            _encode(_digit("CMYK"), "JPEG"),
            _encode(_digit("RGB"), "JPEG", exif=exif),
        ],
        "GIF": [
            _encode(_digit("P"), "GIF"),
            _encode(two_frames[0], "GIF", save_all=True, append_images=two_frames[1:], transparency=0, duration=50),
        ],
        "BMP": [_encode(_digit(), "BMP"), _encode(_digit("1"), "BMP"), _encode(_digit("RGB"), "BMP"), _rle8_bmp()],
    }
    if features.check("webp"):
        seeds["WEBP"] = [
            _encode(_digit("RGB"), "WEBP", lossless=True),
            _encode(_digit("RGB"), "WEBP", quality=80),
            _encode(Image.fromarray(rgba), "WEBP", lossless=True),
            _encode(two_frames[0].convert("RGB"), "WEBP", save_all=True, append_images=[two_frames[1].convert("RGB")]),
        ]
    return seeds


SEEDS = _seeds()


# ---- mutations ----------------------------------------------------------------------------------------------

_VALUES = (0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
# Bytes left alone, so the damage reaches the format's reader (the random-bytes test covers a broken magic)
_MAGIC_LENGTH = {"PNG": 8, "JPEG": 3, "GIF": 6, "BMP": 2, "WEBP": 12}


def _fix_png_crcs(data: bytes) -> bytes:
    """Recompute each chunk's CRC, so the damage reaches the decoder (stopping where the lengths stop making sense)."""
    out, pos = bytearray(data), 8
    while pos + 12 <= len(out):
        (length,) = struct.unpack_from(">I", out, pos)
        end = pos + 8 + length
        if end + 4 > len(out):
            break
        out[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(out[pos + 4 : end])))
        pos = end + 4
    return bytes(out)


@st.composite
def _mutated(draw: st.DrawFn, fmt: str) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS[fmt])))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("flip", "byte", "word", "insert", "delete", "duplicate", "truncate")))
        pos = draw(st.integers(_MAGIC_LENGTH[fmt], max(_MAGIC_LENGTH[fmt], len(data) - 1)))
        if kind == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and pos < len(data):
            data[pos] = draw(st.sampled_from(_VALUES[:5]) | st.integers(0, 255))
        elif kind == "word":  # a size or length field set to an edge value, either byte order
            value = draw(st.sampled_from(_VALUES) | st.integers(0, 0xFFFFFFFF))
            data[pos : pos + 4] = value.to_bytes(4, draw(st.sampled_from(("big", "little"))))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 32))]
        elif kind == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 64))]
        else:
            del data[pos:]
    if fmt == "PNG" and draw(st.booleans()):
        return _fix_png_crcs(bytes(data))
    return bytes(data)


# ---- the properties -------------------------------------------------------------------------------------------


@PROPERTY
@given(data=st.binary(max_size=4096) | st.tuples(st.sampled_from(MAGIC), st.binary(max_size=1024)).map(b"".join))
def test_random_bytes_are_read_or_refused_with_a_message(data: bytes) -> None:
    _check(data)


@pytest.mark.parametrize(
    "fmt",
    [
        "PNG",
        "JPEG",
        "GIF",
        "BMP",
        pytest.param("WEBP", marks=pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WEBP")),
    ],
)
@PROPERTY
@given(data=st.data())
def test_mutated_files_are_read_or_refused_with_a_message(fmt: str, data: st.DataObject) -> None:
    _check(data.draw(_mutated(fmt), label="file"))


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_every_seed_is_read_unmutated(fmt: str) -> None:
    """The mutations start from good files: each seed itself must give a digit (or the test proves little)."""
    for data in SEEDS[fmt]:
        assert read_image(data).mode == "L"
        assert preprocess_digit(read_image(data)).image.shape == (28, 28)


# ---- the memory budget --------------------------------------------------------------------------------------

_WEBP = pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WEBP")


def _rgba16_png(side: int) -> bytes:
    """A 16-bit RGBA PNG (Pillow cannot write one): an opaque black "1" on transparent black, ~140 kB at 16 MP."""
    transparent, ink = bytes(8 * side), np.zeros((side, 4), dtype=">u2")
    ink[side // 2 : side // 2 + side // 14, 3] = 65535  # the bar's columns are opaque
    flag = ink.copy()
    flag[side // 2 - side // 7 : side // 2, 3] = 65535
    compressor, parts = zlib.compressobj(), []
    for y in range(side):
        row = transparent if not side // 6 <= y < side * 5 // 6 else (flag if y < side // 6 + side // 14 else ink)
        parts.append(compressor.compress(b"\x00" + bytes(row)))  # filter type 0, then the row
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    idat = b"".join(parts) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def test_16_bit_rgba_png_at_the_pixel_cap_is_read_without_full_size_copies() -> None:
    """Issue 11's file: 16 megapixels of 16-bit RGBA in ~140 kB. Pillow stores it as 8-bit RGBA (61 MB, within the
    budget); turning it gray used to add ~300 MB of full-size float arrays, and now adds a band at a time."""
    data = _rgba16_png(4000)
    assert len(data) < 200_000
    tracemalloc.start()  # sees numpy's arrays (not Pillow's own picture, which the budget counts)
    try:
        result = preprocess_upload(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MB of arrays; one full-size float32 copy would be 61 MB"
    assert result.inverted and "reduced to 1024 x 1024" in result.note, "black ink on transparent: filled white"
    assert result.image.max() == pytest.approx(1.0) and 0.05 < result.image.mean() < 0.3


@_WEBP
def test_webp_whose_decoding_would_overrun_the_budget_is_refused_saying_what_to_do() -> None:
    data = _encode(Image.new("RGB", (4000, 4000), "white"), "WEBP", lossless=True)
    assert len(data) < 10_000, "a lossless WEBP of one colour is tiny on the wire"
    with pytest.raises(ImageRejected) as info:
        read_image(data)
    message = str(info.value)
    assert f"would need about 244 MB of memory to decode, more than the {MAX_DECODE_BYTES // 2**20} MB" in message
    assert "4000 x 4000 pixels" in message and "WEBP decoding holds three more copies" in message
    assert "Please save it as PNG or JPEG, or resize it" in message


def test_progressive_jpeg_is_refused_when_its_coefficients_overrun_the_budget_but_baseline_is_read() -> None:
    """libjpeg keeps a progressive JPEG's coefficients for the whole picture (here 92 MB); a baseline one it decodes
    a strip at a time, at half scale."""
    picture = _digit("RGB", (4000, 4000))
    baseline = _encode(picture, "JPEG", subsampling=0)
    assert read_image(baseline).size == (2000, 2000)
    with pytest.raises(ImageRejected, match="progressive JPEG is decoded from all its coefficients") as info:
        read_image(_encode(picture, "JPEG", subsampling=0, progressive=True))
    assert "save it as a standard (baseline) JPEG or as PNG" in str(info.value)


def test_png_text_that_would_inflate_past_the_budget_is_refused_before_pillow_opens_it(monkeypatch) -> None:
    text = zlib.compress(b"x" * 2**20, 9)  # 1 MB once inflated (Pillow's limit per chunk), 1 kB in the file
    chunks = b"".join(_png_chunk(b"zTXt", b"note%d\x00\x00" % i + text) for i in range(24))
    plain = _encode(_digit(), "PNG")
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("Pillow opened the file"))
    with pytest.raises(ImageRejected, match="text chunks .metadata. once inflated") as info:
        read_image(plain[:33] + chunks + plain[33:])
    assert "save it again without its text metadata" in str(info.value)


def _budget_cases() -> list:
    rgba = np.zeros((60, 40, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    cases = [
        ("PNG L: 1 byte a pixel", _encode(_digit(size=(40, 60)), "PNG"), 40 * 60),
        ("PNG RGB: 3 bytes padded to 4", _encode(_digit("RGB", (40, 60)), "PNG"), 40 * 60 * 4),
        ("PNG RGBA", _encode(Image.fromarray(rgba), "PNG"), 40 * 60 * 4),
        ("PNG 16-bit gray: 2", _encode(Image.fromarray(np.zeros((60, 40), np.uint16)), "PNG"), 40 * 60 * 2),
        ("RLE BMP: expanded twice more", _rle8_bmp(), 3 * 12 * 10),
        ("baseline JPEG", _encode(_digit("RGB", (40, 60)), "JPEG"), 40 * 60 * 4),
        # 4:2:0 by default: 5 x 8 blocks of luma, 3 x 4 of each chroma component, 64 coefficients of 2 bytes
        ("progressive JPEG: + coefficients", _encode(_digit("RGB", (40, 60)), "JPEG", progressive=True), 9600 + 8192),
    ]
    if features.check("webp"):
        cases.append(("WEBP: + 3 RGBA copies", _encode(_digit("RGB", (40, 60)), "WEBP"), 40 * 60 * 16))
    return [pytest.param(data, cost, id=name) for name, data, cost in cases]


@pytest.mark.parametrize(("data", "cost"), _budget_cases())
def test_budget_counts_the_decoded_picture_and_what_the_decoder_holds_beside_it(data: bytes, cost: int) -> None:
    assert read_image(data, max_decode_bytes=cost).mode == "L", "exactly enough"
    with pytest.raises(ImageRejected, match="of memory to decode"):
        read_image(data, max_decode_bytes=cost - 1)
