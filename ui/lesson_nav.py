"""The lesson's frame: which step is showing (``?step=N`` in the URL, so a link reopens it), Back / Next with a
progress bar, and the prediction a student makes before a step reveals its answer.

Every control works from the keyboard alone: Tab reaches Back, Next and the prediction's choices (Enter or Space
picks one), and the arrow keys Left / Right turn the page. A prediction is remembered for the session, so going
back to a step shows the answer next to the guess that was made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from . import url_params
from .sidebar import ModelPair

PARAM = "step"  # ?step=N, 1-based as a class counts


@dataclass(frozen=True)
class Step:
    """One step of the lesson: its title in the progress bar, and what it draws for the chosen model pair."""

    title: str
    draw: Callable[[ModelPair], None]


def current_step(n_steps: int) -> int:
    """The step the URL names (1-based), else the step this session last showed, else 1. A ?step= that is not a
    step number is ignored with a warning that says why."""
    step = url_params.read(
        PARAM, lambda text: url_params.whole_number(text, 1, n_steps), f"the lesson opens on step 1 of {n_steps}"
    )
    if step is None:
        step = min(max(1, int(st.session_state.get("_lesson_step", 1))), n_steps)
    st.session_state["_lesson_step"] = step
    if st.query_params.get(PARAM) != str(step):
        st.query_params[PARAM] = str(step)
    return step


# Streamlit leaves ~6rem above a wide page; on a 1280x720 projector the lesson needs that room for its step.
_PROJECTOR_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 4.25rem; padding-bottom: 1rem; }
</style>"""


def projector_layout() -> None:
    """Less empty space above the lesson (styles only this page: it is sent with the page's elements)."""
    st.html(_PROJECTOR_CSS)


def _go(step: int) -> None:
    st.session_state["_lesson_step"] = step
    st.query_params[PARAM] = str(step)


def nav_bar(step: int, steps: Sequence[Step]) -> None:
    """Back, the progress bar with the step's title, and Next (Finish on the last step leads to the scoreboard)."""
    n = len(steps)
    back, bar, forward = st.columns([1.1, 6, 1.1], vertical_alignment="center", gap="small")
    back.button(
        "← Back",
        key="lesson_back",
        on_click=_go,
        args=(step - 1,),
        disabled=step == 1,
        shortcut="Left",
        width="stretch",
        help="Previous step (Left arrow)",
    )
    bar.progress(step / n, text=f"**Step {step} of {n}** · {steps[step - 1].title}")
    forward.button(
        "Next →",
        key="lesson_next",
        on_click=_go,
        args=(step + 1,),
        disabled=step == n,
        shortcut="Right",
        type="primary",
        width="stretch",
        help="Next step (Right arrow)",
    )


def predict(key: str, question: str, options: Sequence[str]) -> str | None:
    """The student's prediction for step ``key`` (None until one is made): a row of choices, none picked at first.
    The choice is kept for the session, so the step shows its answer when the student comes back to it."""
    memory, widget = f"_lesson_guess::{key}", f"lesson_guess::{key}"
    if st.session_state.get(widget) is None and st.session_state.get(memory) in options:
        st.session_state[widget] = st.session_state[memory]  # before the widget exists: it opens on the guess

    def remember() -> None:
        st.session_state[memory] = st.session_state.get(widget)

    st.pills(f"**Predict:** {question}", list(options), key=widget, on_change=remember, wrap=True)
    guess = st.session_state.get(widget)
    if guess is None:
        st.caption("Make your prediction to see the answer.")
    return guess


def bucket(value: float, edges: Sequence[float], names: Sequence[str]) -> str:
    """The name of the bucket a share falls in: ``edges`` are the upper bounds of all but the last bucket."""
    for edge, name in zip(edges, names, strict=False):
        if value < edge:
            return name
    return names[-1]


SHARES = ("under 25 %", "25-50 %", "50-75 %", "over 75 %")  # buckets for "what share ...?" predictions
SHARE_EDGES = (0.25, 0.5, 0.75)


def judged(guess: str, truth: str) -> str:
    """One line comparing a guess with what was measured."""
    return (
        f":material/check_circle: You predicted **{guess}**: right."
        if guess == truth
        else f"You predicted **{guess}**; measured: **{truth}**."
    )
