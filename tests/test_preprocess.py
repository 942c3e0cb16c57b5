"""Uploads and drawings -> MNIST-like digits: what the user sees for good files, and the message for bad ones."""

from __future__ import annotations

import io
import itertools
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile, features

from vae_core.preprocess import (
    MAX_PIXELS,
    ImageRejected,
    PreprocessResult,
    preprocess_digit,
    preprocess_upload,
    read_image,
)

CENTRE = 14.0  # where MNIST puts a digit's centre of mass, in pixel-index coordinates
STEPS_INVERTED = ["grayscale", "inverted", "cropped", "fitted 20x20", "centred 28x28"]


def _one_on_white(h: int = 60, w: int = 40) -> np.ndarray:
    """A black "1" (a bar with a flag at the top-left) on white, as uint8: asymmetric on purpose."""
    img = np.full((h, w), 255, dtype=np.uint8)
    img[10:50, 18:24] = 0
    img[10:16, 10:18] = 0
    return img


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _mass_centre(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    total = image.sum()
    return float((image * ys).sum() / total), float((image * xs).sum() / total)


def _ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _assert_mnist_like(result: PreprocessResult) -> None:
    image = result.image
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() == pytest.approx(1.0)
    assert np.all(image[:2] == 0) and np.all(image[-2:] == 0), "white digit on black: the margins are black"
    height, width = _ink_box(image)
    assert max(height, width) <= 20
    cy, cx = _mass_centre(image)
    assert abs(cy - CENTRE) <= 1 and abs(cx - CENTRE) <= 1


@pytest.fixture(scope="module")
def reference() -> PreprocessResult:
    return preprocess_digit(_one_on_white())


# ---- the pipeline -----------------------------------------------------------------------------------------


def test_black_one_on_white_comes_out_white_on_black_centred_and_fitted(reference: PreprocessResult) -> None:
    _assert_mnist_like(reference)
    assert reference.inverted
    assert "inverted" in reference.note
    assert _ink_box(reference.image)[0] == 20, "a tall digit is scaled so its height is exactly 20"


def test_steps_are_named_in_order(reference: PreprocessResult) -> None:
    assert [name for name, _ in reference.steps] == STEPS_INVERTED
    for name, step in reference.steps:
        assert step.dtype == np.float32 and step.ndim == 2 and 0 <= step.min() <= step.max() <= 1, name
    assert reference.steps[-1][1] is reference.image
    assert reference.steps[2][1].shape == (40, 14), "cropped to the ink's bounding box"


def test_white_digit_on_black_is_not_inverted(reference: PreprocessResult) -> None:
    result = preprocess_digit(255 - _one_on_white())
    assert not result.inverted and result.note == ""
    assert [name for name, _ in result.steps] == [s for s in STEPS_INVERTED if s != "inverted"]
    np.testing.assert_allclose(result.image, reference.image, atol=1e-6)


def test_float_array_gives_the_same_result(reference: PreprocessResult) -> None:
    result = preprocess_digit(_one_on_white().astype(np.float32) / 255)
    np.testing.assert_allclose(result.image, reference.image, atol=1e-6)


def test_wide_mark_keeps_its_aspect_ratio() -> None:
    img = np.zeros((60, 140), dtype=np.uint8)
    img[20:40, 20:120] = 255  # a 100 x 20 bar
    result = preprocess_digit(img)
    assert dict(result.steps)["fitted 20x20"].shape == (4, 20)
    _assert_mnist_like(result)


def test_noisy_photo_crops_to_the_digit_not_the_noise_or_a_speck(reference: PreprocessResult) -> None:
    rng = np.random.default_rng(3)
    photo = np.where(_one_on_white() == 0, 0.2, 0.8) + 0.03 * rng.standard_normal((60, 40))  # grey paper, grain
    photo[55, 2] = 0.0  # a speck of dust far from the digit
    result = preprocess_digit(photo.clip(0, 1))
    assert result.inverted
    assert dict(result.steps)["cropped"].shape == (40, 14)
    assert np.abs(result.image - reference.image).mean() < 0.02
    _assert_mnist_like(result)


def test_rgba_canvas_strokes_come_from_alpha(reference: PreprocessResult) -> None:
    canvas = np.zeros((60, 40, 4), dtype=np.uint8)  # transparent, with black strokes whose alpha is 255
    canvas[..., 3] = 255 - _one_on_white()
    result = preprocess_digit(canvas)
    assert not result.inverted
    np.testing.assert_allclose(result.image, reference.image, atol=1e-6)


def test_opaque_rgba_canvas_uses_the_colours(reference: PreprocessResult) -> None:
    canvas = np.repeat(_one_on_white()[..., None], 4, axis=2)
    canvas[..., 3] = 255  # a canvas with a white background filled in: alpha says nothing
    result = preprocess_digit(canvas)
    assert result.inverted
    np.testing.assert_allclose(result.image, reference.image, atol=1e-5)


def _noise() -> np.ndarray:
    return (0.5 + 0.05 * np.random.default_rng(0).standard_normal((50, 50))).clip(0, 1)


def _speck() -> np.ndarray:
    img = np.full((50, 50), 255, dtype=np.uint8)
    img[25, 25] = 0
    return img


@pytest.mark.parametrize(
    "image",
    [np.full((30, 30), 255, np.uint8), np.zeros((30, 30), np.uint8), _noise(), _speck()],
    ids=["white", "black", "faint-noise", "single-speck"],
)
def test_blank_images_are_rejected(image: np.ndarray) -> None:
    with pytest.raises(ImageRejected, match="looks blank"):
        preprocess_digit(image)


@pytest.mark.parametrize(
    ("array", "match"),
    [(np.zeros((4, 4, 2), np.uint8), "colour array"), (np.full((4, 4), 2.0), r"\[0, 1\]")],
    ids=["two-channels", "float-out-of-range"],
)
def test_malformed_arrays_are_a_callers_error(array: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        preprocess_digit(array)
    assert not isinstance(info.value, ImageRejected)


def test_large_image_is_reduced_before_processing() -> None:
    img = np.full((1500, 2000), 255, dtype=np.uint8)
    img[300:1200, 900:1100] = 0
    result = preprocess_upload(_encode(Image.fromarray(img), "PNG"))
    assert result.steps[0][1].shape == (768, 1024)
    assert "reduced to 1024 x 768" in result.note and "inverted" in result.note
    _assert_mnist_like(result)


# ---- good files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "params", "atol"),
    [
        ("PNG", {}, 1e-6),
        ("BMP", {}, 1e-6),
        ("GIF", {}, 1e-6),
        ("JPEG", {"quality": 95}, 0.03),
        pytest.param(
            "WEBP",
            {"lossless": True},
            1e-6,
            marks=pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WEBP"),
        ),
    ],
)
def test_each_allowed_format_gives_the_same_digit(
    reference: PreprocessResult, fmt: str, params: dict, atol: float
) -> None:
    result = preprocess_upload(_encode(Image.fromarray(_one_on_white()), fmt, **params))
    assert result.inverted
    assert np.abs(result.image - reference.image).mean() <= atol
    _assert_mnist_like(result)


def test_16_bit_png_is_scaled_not_clipped(reference: PreprocessResult) -> None:
    gray16 = Image.fromarray(np.full((8, 8), 20000, dtype=np.uint16))
    assert gray16.mode == "I;16"
    assert np.asarray(read_image(_encode(gray16, "PNG"))).max() == round(20000 / 65535 * 255)  # convert("L") gives 255
    digit16 = Image.fromarray(_one_on_white().astype(np.uint16) * 257)
    np.testing.assert_allclose(preprocess_upload(_encode(digit16, "PNG")).image, reference.image, atol=1e-6)


def test_cmyk_jpeg(reference: PreprocessResult) -> None:
    cmyk = Image.fromarray(_one_on_white()).convert("CMYK")
    gray = np.asarray(read_image(_encode(cmyk, "JPEG", quality=95)))
    assert gray[0, 0] > 240 and gray[30, 20] < 15, "white paper stays white, black ink stays black"
    result = preprocess_upload(_encode(cmyk, "JPEG", quality=95))
    assert np.abs(result.image - reference.image).mean() <= 0.03


@pytest.mark.parametrize(("mode", "ink"), [("P", 0), ("P", 255), ("RGBA", 0)], ids=["P-dark", "P-light", "RGBA"])
def test_transparent_png(reference: PreprocessResult, mode: str, ink: int) -> None:
    # Transparent pixels store the ink's own colour: ignoring transparency would give a blank image.
    strokes = (_one_on_white() == 0).astype(np.uint8)
    if mode == "P":
        img = Image.frombytes("P", (40, 60), strokes.tobytes())
        img.putpalette([ink] * 3 + [ink] * 3)
        data = _encode(img, "PNG", transparency=0)  # palette index 0 is transparent
    else:
        rgba = np.full((60, 40, 4), ink, dtype=np.uint8)
        rgba[..., 3] = strokes * 255
        data = _encode(Image.fromarray(rgba), "PNG")
    assert Image.open(io.BytesIO(data)).mode == mode
    gray = np.asarray(read_image(data))
    assert abs(int(gray[0, 0]) - int(gray[30, 20])) == 255, "transparent areas filled to contrast with the ink"
    np.testing.assert_allclose(preprocess_upload(data).image, reference.image, atol=1e-6)


def test_one_bit_png(reference: PreprocessResult) -> None:
    data = _encode(Image.fromarray(_one_on_white()).convert("1"), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "1"
    np.testing.assert_allclose(preprocess_upload(data).image, reference.image, atol=1e-6)


@pytest.mark.parametrize(("orientation", "turns"), [(6, -1), (8, 1)], ids=["6-clockwise", "8-anticlockwise"])
def test_exif_orientation_is_applied(orientation: int, turns: int) -> None:
    stored = np.zeros((16, 32), dtype=np.uint8)  # wide, with a bright block at the top-left only
    stored[:8, :8] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif)
    shown = np.asarray(read_image(data))
    assert shown.shape == (32, 16)
    np.testing.assert_array_equal(shown > 128, np.rot90(stored, k=turns) > 128)


def _phone_photo(exif: Image.Exif | None = None) -> bytes:
    """A 4032 x 3024 JPEG of a dark "1" (bar and flag, as ``_one_on_white``) on light paper."""
    img = np.full((3024, 4032), 230, dtype=np.uint8)
    img[500:2500, 1900:2200] = 20
    img[500:800, 1500:1900] = 20
    return _encode(Image.fromarray(img), "JPEG", quality=90, **({"exif": exif} if exif else {}))


def test_phone_photo_is_decoded_at_a_reduced_scale_and_still_prepared() -> None:
    """A 12-megapixel JPEG is decoded at half size (never below the 1024-pixel working size), not in full."""
    data = _phone_photo()
    assert read_image(data).size == (2016, 1512)
    result = preprocess_upload(data)
    assert result.steps[0][1].shape == (768, 1024) and "reduced to 1024 x 768" in result.note
    _assert_mnist_like(result)
    height, width = _ink_box(result.image)
    assert height == 20 and width < height, "the upright 1 stays upright"


def test_sideways_phone_photo_is_decoded_small_and_stood_up() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn clockwise to show
    assert read_image(_phone_photo(exif)).size == (1512, 2016)


def test_steps_for_display_are_thumbnails_and_the_digit_is_untouched() -> None:
    result = preprocess_upload(_phone_photo())
    small = result.for_display(224)
    assert [name for name, _ in small.steps] == [name for name, _ in result.steps]
    for (name, big), (_, thumb) in zip(result.steps, small.steps, strict=True):
        if max(big.shape) > 224:
            assert max(thumb.shape) == 224, name
            assert thumb.shape[0] / thumb.shape[1] == pytest.approx(big.shape[0] / big.shape[1], rel=0.05), name
        else:
            assert thumb is big, f"{name} is small already: kept as it is"
    assert [img.shape for _, img in small.steps][:2] == [(168, 224), (168, 224)]
    assert small.image is result.image and small.steps[-1][1] is result.image
    assert small.note == result.note and small.inverted == result.inverted
    cropped = dict(small.steps)["cropped"]
    assert cropped.min() >= 0.0 and cropped.max() <= 1.0 and cropped.max() > 0.9, "area averaging keeps the ink"
    with pytest.raises(ValueError, match="at least 1 pixel"):
        result.for_display(0)


def test_large_picture_is_read_reduced_by_a_whole_factor_and_stood_up() -> None:
    """Over twice the working size, a picture is box-averaged while it is turned gray (4100 // 1025 = 4), never
    below 1025 pixels, so preprocess_digit still reduces it to 1024 and says so; EXIF orientation still applies."""
    stored = np.zeros((2000, 4100), dtype=np.uint8)  # wide, with a bright block at the top-left only
    stored[:500, :500] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # turn clockwise to show
    data = _encode(Image.fromarray(stored), "PNG", exif=exif)
    shown = np.asarray(read_image(data))
    assert shown.shape == (1025, 500)
    np.testing.assert_array_equal(shown > 128, np.rot90(stored[::4, ::4], k=-1) > 128)


def test_transparent_pixels_colour_does_not_leak_into_a_reduced_picture() -> None:
    """Box-averaging is done on premultiplied values: a box half transparent and half black ink is half ink, whatever
    colour the transparent pixels store (here white on the left, black on the right)."""
    rgba = np.zeros((2100, 2100, 4), dtype=np.uint8)
    rgba[:, :999, :3] = 255  # transparent white
    rgba[300:1800, 999:1100, 3] = 255  # an opaque black bar; its first column shares a 2 x 2 box with transparent white
    gray = np.asarray(read_image(_encode(Image.fromarray(rgba), "PNG"))).astype(int)
    assert gray.shape == (1050, 1050)
    assert gray[0, 0] == gray[0, -1] == 255, "background filled white, to contrast with the black ink"
    assert gray[500, 520] == 0 and abs(gray[500, 499] - 128) <= 1


def _rle8_bmp(gray: np.ndarray) -> bytes:
    """A two-colour image as an 8-bit run-length-encoded BMP (Pillow cannot write one): black 0, white 1."""
    rows = []
    for row in gray[::-1] > 128:  # bottom-up
        edges = [0, *np.flatnonzero(np.diff(row)) + 1, len(row)]
        rows.append(b"".join(bytes((b - a, int(row[a]))) for a, b in itertools.pairwise(edges)) + b"\x00\x00")
    pixels = b"".join(rows) + b"\x00\x01"
    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00" + bytes(4 * 254)
    h, w = gray.shape
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + palette + pixels


def test_run_length_bmp_gives_the_same_digit(reference: PreprocessResult) -> None:
    data = _rle8_bmp(_one_on_white())
    assert Image.open(io.BytesIO(data)).info["compression"] == 1
    np.testing.assert_allclose(preprocess_upload(data).image, reference.image, atol=1e-6)


def test_corrupt_exif_is_ignored_quietly() -> None:
    stored = np.zeros((16, 32), dtype=np.uint8)
    stored[:8, :8] = 255
    broken_exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00"  # cut mid-tag
    data = _encode(Image.fromarray(stored), "JPEG", quality=95, exif=broken_exif)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's "Corrupt EXIF data" warning must not escape
        shown = np.asarray(read_image(data))
    np.testing.assert_array_equal(shown > 128, stored > 128)


def test_animated_gif_uses_the_first_frame() -> None:
    first, second = np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8)
    first[5:35, 5:15], second[5:35, 25:35] = 255, 255
    data = _encode(
        Image.fromarray(first),
        "GIF",
        save_all=True,
        append_images=[Image.fromarray(second)],
        duration=100,
        loop=0,
    )
    assert Image.open(io.BytesIO(data)).n_frames == 2
    gray = np.asarray(read_image(data))
    np.testing.assert_array_equal(gray, first)


def test_jpeg_with_mpf_block_is_accepted_as_jpeg() -> None:
    # Pillow calls such files "MPO" even when asked for JPEG only; phones and cameras write them.
    frames = [Image.fromarray(_one_on_white()).convert("RGB"), Image.new("RGB", (40, 60), "white")]
    data = _encode(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=95)
    assert Image.open(io.BytesIO(data), formats=["JPEG"]).format == "MPO"
    _assert_mnist_like(preprocess_upload(data))


# ---- bad files --------------------------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A 1-bit PNG whose header claims width x height; the pixel data is not there (it must never be read)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def _valid(fmt: str) -> bytes:
    noise = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    return _encode(Image.fromarray(noise), fmt)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty (0 bytes)"),
        (np.random.default_rng(2).bytes(4096), "not an image in a format we accept"),
        (b"<script>alert('hi')</script>\nnot really a picture\n", "contains text, not a picture"),
        (_valid("PNG")[: len(_valid("PNG")) // 2], "The PNG file is damaged or incomplete"),
        (_valid("JPEG")[: len(_valid("JPEG")) // 2], "The JPEG file is damaged or incomplete"),
        (_valid("PNG")[:20], "looks like a PNG but is damaged or incomplete"),
        (_encode(Image.new("L", (8, 8)), "TIFF"), "TIFF images are not supported; please upload PNG, JPEG"),
        (b"8BPS\x00\x01" + bytes(20), "Photoshop (PSD) files are not supported"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "PDF documents are not supported"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG drawings are not supported"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(16), "HEIC photos are not supported"),
    ],
    ids=[
        "empty",
        "random",
        "text",
        "trunc-png",
        "trunc-jpeg",
        "trunc-png-header",
        "tiff",
        "psd",
        "pdf",
        "svg",
        "heic",
    ],
)
def test_unreadable_files_get_a_specific_message(data: bytes, expected: str) -> None:
    with pytest.raises(ImageRejected) as info:
        read_image(data)
    message = str(info.value)
    assert expected in message
    assert "<" not in message and "BytesIO" not in message, "no user data or Pillow internals in the message"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize(
    "size",
    [(5000, 4000), (10000, 10000), (20000, 20000)],
    ids=["over-our-cap", "pillow-warns", "pillow-errors"],
)
def test_huge_dimensions_are_rejected_before_decoding(size: tuple[int, int]) -> None:
    filters_before, limit_before = list(warnings.filters), Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageRejected, match=f"the limit is {MAX_PIXELS / 1e6:g} megapixels"):
        read_image(_png_header_only(*size))  # decoding would fail: the pixel data is missing
    assert list(warnings.filters) == filters_before and Image.MAX_IMAGE_PIXELS == limit_before


def test_dimensions_are_given_when_over_our_cap() -> None:
    with pytest.raises(ImageRejected, match=r"5000 x 4000 pixels \(20\.0 megapixels\)"):
        read_image(_png_header_only(5000, 4000))


def test_file_over_the_byte_cap_is_rejected_unopened() -> None:
    data = _valid("PNG") + bytes(6 * 1024 * 1024)
    with pytest.raises(ImageRejected, match=r"The file is 6\.0 MB; the limit is 5 MB"):
        read_image(data)


def test_read_image_wants_bytes() -> None:
    with pytest.raises(TypeError, match="needs the file's bytes"):
        read_image("digit.png")  # type: ignore[arg-type]
