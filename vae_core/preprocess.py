"""A user's upload or drawing -> an MNIST-like 28x28 digit: read safely, then normalise as LeCun did, step by step.

Reading (``read_image``, in ``image_reader``) judges a file by its content before any pixel is decoded: byte, pixel
and memory caps, a format allowlist, decompression bombs and truncated files refused with a message that teaches.

Normalising (``preprocess_digit``) follows MNIST (LeCun et al., 1998): white digit on black, cropped to its ink,
scaled to fit 20x20 keeping the aspect ratio (antialiased), pasted into 28x28 with its centre of mass at (14, 14).
Real MNIST digits pass through unchanged (mean absolute difference about 0.004 on 300 of them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from .image_reader import (
    ALLOWED_FORMATS,
    MAX_DECODE_BYTES,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    WORK_SIDE,
    ImageRejected,
    read_image,
    to_gray,
)

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_DECODE_BYTES",
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "WORK_SIDE",
    "ImageRejected",
    "PreprocessResult",
    "preprocess_digit",
    "preprocess_upload",
    "read_image",
]

_MIN_CONTRAST = 0.15  # ink must differ from the background by this much (of the full 0-1 range) to count,
_NOISE_SIGMAS = 6.0  # ... and by this many times the background's noise (its robust standard deviation)
_NOISE_FLOOR = 0.1  # after stretching the background to 0 and the ink to 1, fainter pixels become 0
_INK_THRESHOLD = 0.25  # pixels above this (stretched) count as ink when finding the bounding box
_FIT, _CANVAS = 20, 28  # MNIST: the digit fits in 20x20, centred by mass in 28x28
_BLANK = (
    "The image looks blank: nothing stands out from the background. "
    "Please draw or photograph one digit, dark on light or light on dark."
)


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class PreprocessResult:
    """The final MNIST-like image and every intermediate image, so a page can show how it was made."""

    # float32 [0, 1] 2-D images, in order: "grayscale", "inverted" (only if it was), "cropped" (background
    # stretched to 0 and ink to 1), "fitted 20x20" (at most 20 on each side), "centred 28x28"
    steps: list[tuple[str, np.ndarray]]
    image: np.ndarray  # (28, 28) float32 in [0, 1], white digit on black like MNIST
    inverted: bool  # True if the background was light and the image was inverted
    note: str  # a short remark for the user, e.g. "light background detected: inverted", or ""

    def for_display(self, max_side: int) -> PreprocessResult:
        """The same result with every step larger than ``max_side`` pixels area-averaged down to fit, for a page
        that shows the steps as thumbnails and keeps results in a cache: a photo's steps at the working size take
        ~7 MB, reduced to 224 pixels ~0.4 MB. Smaller steps, and ``image`` itself, are kept as they are."""
        if max_side < 1:
            raise ValueError(f"max_side must be at least 1 pixel (got {max_side})")
        steps = [
            (name, _resize(img, max_side / max(img.shape), Image.Resampling.BOX) if max(img.shape) > max_side else img)
            for name, img in self.steps
        ]
        return replace(self, steps=steps)


def preprocess_digit(img: Image.Image | np.ndarray) -> PreprocessResult:
    """Turn an image of one digit into an MNIST-like 28x28 image, keeping every intermediate step.

    ``img`` is a Pillow image, a 2-D gray array (uint8 0-255 or float 0-1), or an (H, W, 3/4) RGB(A) array. For
    an RGBA canvas whose alpha varies, alpha marks the strokes (the usual drawing canvas). An image larger than
    ``WORK_SIDE`` is area-averaged down to it first (and the note says so). Raises ``ImageRejected`` if no digit
    stands out from the background; ``ValueError`` for malformed arrays.
    """
    notes: list[str] = []
    gray = to_gray(img, min_side=WORK_SIDE + 1) if isinstance(img, Image.Image) else _array_to_gray(img)
    if gray.size == 0:
        raise ImageRejected("The image is empty (0 pixels). Please draw or upload a digit.")
    if max(gray.shape) > WORK_SIDE:
        gray = _resize(gray, WORK_SIDE / max(gray.shape), Image.Resampling.BOX)
        notes.append(f"large image reduced to {gray.shape[1]} x {gray.shape[0]}")
    steps: list[tuple[str, np.ndarray]] = [("grayscale", gray)]
    inverted = _border_median(gray) > 0.5
    if inverted:
        gray = (1.0 - gray).astype(np.float32)
        steps.append(("inverted", gray))
        notes.insert(0, "light background detected: inverted")
    cropped = _crop_to_ink(gray)
    fitted = _resize(cropped, _FIT / max(cropped.shape), Image.Resampling.LANCZOS)
    peak = float(fitted.max())
    if peak <= 0.0:  # cannot happen with ink above the threshold, but never divide by zero
        raise ImageRejected(_BLANK)
    fitted /= peak  # thin strokes fade when shrunk; MNIST strokes peak at full white
    centred = _centre_by_mass(fitted, _CANVAS)
    steps += [("cropped", cropped), ("fitted 20x20", fitted), ("centred 28x28", centred)]
    return PreprocessResult(steps=steps, image=centred, inverted=inverted, note="; ".join(notes))


def preprocess_upload(data: bytes) -> PreprocessResult:
    """``read_image`` then ``preprocess_digit``: an uploaded file's bytes to an MNIST-like digit."""
    return preprocess_digit(read_image(data))


def _array_to_gray(arr: np.ndarray) -> np.ndarray:
    """A 2-D gray or (H, W, 3/4) RGB(A) array -> float32 [0, 1]; an RGBA canvas with varying alpha -> alpha."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"preprocess_digit needs a PIL image or a numpy array (got {type(arr).__name__})")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        return _unit_range(arr)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected a 2-D gray array or an (H, W, 3) / (H, W, 4) colour array (got {arr.shape})")
    values = _unit_range(arr)
    if arr.shape[2] == 4 and values[..., 3].max() > values[..., 3].min():
        return np.ascontiguousarray(values[..., 3])  # strokes drawn on a transparent canvas
    return (values[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.float32)  # ITU-R 601


def _unit_range(arr: np.ndarray) -> np.ndarray:
    """uint8/bool 0-255 or float 0-1 -> float32 in [0, 1]; anything else is a caller's mistake."""
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f"integer image arrays must hold 0-255 (got {arr.min()}..{arr.max()})")
        return arr.astype(np.float32) / 255.0
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0.0 and arr.max() <= 1.0):
            raise ValueError("float image arrays must be finite and in [0, 1]; divide 0-255 values by 255 first")
        return arr.astype(np.float32)
    raise ValueError(f"image arrays must be uint8, bool or float (got {arr.dtype})")


def _border(gray: np.ndarray) -> np.ndarray:
    """The outermost pixels: mostly background, since a digit rarely fills the frame."""
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def _border_median(gray: np.ndarray) -> float:
    """The background's level."""
    return float(np.median(_border(gray)))


def _crop_to_ink(gray: np.ndarray) -> np.ndarray:
    """Stretch background..ink to 0..1, silence faint noise, and crop to the ink's bounding box."""
    border = _border(gray)
    background = float(np.median(border))
    noise = 1.4826 * float(np.median(np.abs(border - background)))  # MAD, scaled to a Gaussian's sigma
    contrast = float(gray.max()) - background
    if contrast < max(_MIN_CONTRAST, _NOISE_SIGMAS * noise):
        raise ImageRejected(_BLANK)
    ink = np.clip((gray - background) / contrast, 0.0, 1.0).astype(np.float32)
    ink[ink < _NOISE_FLOOR] = 0.0
    mask = _without_specks(ink > _INK_THRESHOLD)
    if not mask.any():
        raise ImageRejected(_BLANK)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()


def _without_specks(mask: np.ndarray) -> np.ndarray:
    """Drop isolated pixels (no ink among their 8 neighbours): dust and sensor noise, not strokes."""
    padded = np.pad(mask, 1)
    h, w = mask.shape
    neighbours = sum(
        padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w].astype(np.uint8)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    )
    return mask & (neighbours > 0)


def _resize(image: np.ndarray, scale: float, resample: Image.Resampling) -> np.ndarray:
    """Scale a float image by ``scale`` (each side at least 1 pixel), keeping values in [0, 1]."""
    h, w = image.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(size, resample)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _centre_by_mass(image: np.ndarray, side: int) -> np.ndarray:
    """Paste ``image`` into a side x side black canvas, shifted so its centre of mass lands at (side/2, side/2).

    The shift is a whole number of pixels (so the mass is within half a pixel of the centre) and is limited so
    the image never leaves the canvas.
    """
    h, w = image.shape
    total = float(image.sum())
    cy = float(image.sum(axis=1) @ np.arange(h)) / total
    cx = float(image.sum(axis=0) @ np.arange(w)) / total
    middle = side / 2  # where MNIST puts it: its digits' mass centres average (14.0, 14.0), not 13.5
    top = int(np.clip(round(middle - cy), 0, side - h))
    left = int(np.clip(round(middle - cx), 0, side - w))
    canvas = np.zeros((side, side), dtype=np.float32)
    canvas[top : top + h, left : left + w] = image
    return canvas
