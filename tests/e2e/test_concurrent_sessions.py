"""Several students on one server at the same time, over Streamlit's own websocket protocol (the classroom load
script's client, ``bench/streamlit_client.py``): every page works for each of them, and nobody sees anybody
else's upload. No browser needed: this is what the server does, not what Chromium draws."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from load_classroom import PAGES, handwritten_digit, map_click, pad_release  # noqa: E402
from streamlit_client import ProtocolSession  # noqa: E402

from ui.safe_text import escape_markdown  # noqa: E402

STUDENTS = 3


def shown_text(session: ProtocolSession) -> str:
    """Every piece of Markdown and every heading on the session's current page."""
    parts = []
    for el in session.elements.values():
        kind = el.WhichOneof("type")
        if kind in ("markdown", "heading"):
            parts.append(getattr(el, kind).body)
    return "\n".join(parts)


async def student(url: str, i: int) -> dict[str, str]:
    rng = random.Random(i)
    session = ProtocolSession(url, timeout=120)
    await session.connect()
    seen: dict[str, str] = {}
    try:
        for page in PAGES:
            run = await session.open(page)
            assert not run.exceptions, f"student {i} on /{page}: {run.exceptions}"
            if page == "Latent_map":
                run = await session.trigger_component_event("latent_map", "pin", map_click(session, rng))
                assert not run.exceptions, run.exceptions
                assert run.media_fetched >= 1, "a pin on the map decodes an image"
            elif page == "Latent_sliders":
                run = await session.trigger_component_event("live_pad", "release", pad_release(session, rng))
                assert not run.exceptions, run.exceptions
            elif page == "Upload":
                run = await session.upload("upload_images", f"student-{i}-digit.png", handwritten_digit(rng))
                assert not run.exceptions, run.exceptions
                assert run.media_fetched >= 3, "the prepared image and both reconstructions arrive"
                seen["upload"] = shown_text(session)
    finally:
        await session.close()
    return seen


def test_students_at_the_same_time_each_see_every_page_and_only_their_own_upload(app_url):
    async def classroom() -> list[dict[str, str]]:
        return await asyncio.gather(*(student(app_url, i) for i in range(STUDENTS)))

    results = asyncio.run(classroom())
    shown = [escape_markdown(f"student-{i}-digit.png") for i in range(STUDENTS)]  # as the page writes file names
    for i, seen in enumerate(results):
        assert shown[i] in seen["upload"], "each student's report is titled with their own file"
        others = [shown[j] for j in range(STUDENTS) if j != i]
        assert not any(name in seen["upload"] for name in others), "nobody sees another student's upload"
