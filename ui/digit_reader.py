"""Which digit does an image show? The shipped classifier of its dataset reads it (``vae_core.evaluation.classifier``),
so a page can say what a reconstruction looks like and say so when it looks like another digit.

The classifier loads once per server process; without one for the dataset (``python -m vae_core.cli.metrics``
trains it) the pages say nothing about what they see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae_core.evaluation.classifier import TrainedClassifier, load_classifier, predict_proba
from vae_core.evaluation.results import find_classifier
from vae_core.store.disk import content_hash


@dataclass(frozen=True)
class Reading:
    """What the classifier sees in one image: its class (index and name) and how sure it is."""

    label: int
    name: str
    p: float

    def __str__(self) -> str:
        return f"{self.name} (p = {self.p:.2f})"


@st.cache_resource(show_spinner=False, max_entries=8)
def _classifier(path: str, version: str) -> TrainedClassifier:
    return load_classifier(path)


def read(dataset: str, images: np.ndarray) -> list[Reading] | None:
    """The classifier's reading of each (28, 28) image in ``images`` (N, 28, 28), or None without a classifier."""
    path = find_classifier(dataset)
    if path is None:
        return None
    trained = _classifier(str(path), content_hash(path))
    probs = predict_proba(trained.model, np.asarray(images, dtype=np.float32))
    names = trained.class_names
    return [Reading(int(k), names[int(k)], float(p[k])) for p, k in zip(probs, probs.argmax(axis=1), strict=True)]


def misread(what: str, reading: Reading | None, truth: str) -> str | None:
    """A note when ``reading`` is not ``truth`` ("The autoencoder's reconstruction reads as a 9, not a 4 ..."), else
    None."""
    if reading is None or reading.name == truth:
        return None
    return f"{what} reads as **{reading.name}**, not {truth} (the classifier is {reading.p:.0%} sure)."
