"""A classroom on one server: N concurrent sessions against one `streamlit run`, on 127.0.0.1 only.

    python bench/load_classroom.py --sessions 30 --rounds 2

Starts the app once and holds N concurrent sessions that speak Streamlit's **websocket protocol**
(``bench/streamlit_client.py``: the same protobuf messages, XSRF cookie, uploads and message cache as the browser,
without a browser's rendering). Each student arrives during the ramp and walks a bounded loop over every page,
pausing like a person between steps (``--think`` seconds, +-50 %, seeded): home -> train -> latent map (click a
random test image or place on the map) -> sliders (release the pad at a random code) -> interpolate -> upload (a
digit of their own, drawn small or a 12-megapixel phone photo (``--photos``): every upload differs) ->
smoothness. It reports errors (exceptions shown on a page, time-outs, refused requests), p50/p95 latency of the
server interactions (request sent -> run finished and its images fetched), and the server's RSS over time,
until ``--settle`` seconds after every session closed.

Why the protocol rather than browsers: 30 headless Chromium contexts on the same 2 cores need more CPU than the
server they measure (``bench/load_classroom_browser.py`` does that, and tops out near 10 sessions here). The live
pad's decoding happens in each student's browser and costs the server nothing, so it is not simulated beyond the
release that reruns the page.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))

from conftest import free_port, start_server, wait_healthy  # noqa: E402
from streamlit_client import ProtocolError, ProtocolSession, RunResult  # noqa: E402

PAGES = ["", "Train", "Latent_map", "Latent_sliders", "Interpolate", "Upload", "Smoothness"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def handwritten_digit(rng: random.Random) -> bytes:
    """A student's own digit: a few dark strokes on a light photo-sized canvas, different for every call."""
    size = rng.choice([96, 160, 240])
    img = Image.new("L", (size, size), rng.randint(200, 255))
    draw = ImageDraw.Draw(img)
    points = [(rng.uniform(0.25, 0.75) * size, rng.uniform(0.15, 0.85) * size) for _ in range(rng.randint(3, 6))]
    draw.line(points, fill=rng.randint(0, 60), width=max(3, size // 14), joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def phone_photo(rng: random.Random) -> bytes:
    """A student's phone photo of a digit on paper: 12 megapixels of JPEG, upright or sideways, uneven light."""
    w, h = rng.choice([(4032, 3024), (3024, 4032)])
    light = np.linspace(rng.uniform(170, 200), rng.uniform(220, 250), w, dtype=np.float32)
    img = Image.fromarray(np.repeat(light[None, :], h, axis=0).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(img)
    points = [(rng.uniform(0.3, 0.7) * w, rng.uniform(0.2, 0.8) * h) for _ in range(rng.randint(3, 6))]
    draw.line(points, fill=(rng.randint(10, 60),) * 3, width=min(w, h) // 20, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def map_click(session: ProtocolSession, rng: random.Random) -> dict:
    """The pin this student makes on the VAE's map (the map component's "pin" event, sent on a click): a random test
    image, or a random place on the plane."""
    _, comp = session.find("bidi_component", "latent_map")
    (n,) = struct.unpack_from("<I", comp.bytes)
    vae = json.loads(comp.bytes[4 : 4 + n])["maps"][0]
    if rng.random() < 0.5:
        return {"role": vae["role"], "index": rng.randrange(vae["n"])}
    return {"role": vae["role"], "xy": [round(rng.uniform(-3, 3), 3), round(rng.uniform(-3, 3), 3)]}


def pad_release(session: ProtocolSession, rng: random.Random) -> dict:
    """The live pad's release event with a random code per column (sizes read from the component's data)."""
    _, comp = session.find("bidi_component", "live_pad")
    (n,) = struct.unpack_from("<I", comp.bytes)
    header = json.loads(comp.bytes[4 : 4 + n])
    return {"zs": {m["label"]: [round(rng.uniform(-2, 2), 3) for _ in m["z"]] for m in header["models"]}}


async def student(i: int, url: str, args: argparse.Namespace, stats: dict, wave: int) -> None:
    rng = random.Random(1000 * wave + i)  # seeded; every class has new students (new uploads, new clicks)

    async def think() -> None:
        await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))

    def record(kind: str, result: RunResult) -> None:
        stats[kind].append(result.seconds)
        stats["bytes"] += result.bytes_received
        stats["errors"].extend(f"session {i}: exception on a {kind}: {e}" for e in result.exceptions)

    await asyncio.sleep(args.ramp * i)  # students arrive over the ramp, not all in the same millisecond
    session = ProtocolSession(url, timeout=args.timeout)
    step = "connect"
    try:
        await session.connect()
        for _round in range(args.rounds):
            for page in PAGES:
                step = f"/{page}"
                record("navigate", await session.open(page))
                await think()
                if page == "Latent_map":
                    record("click", await session.trigger_component_event("latent_map", "pin", map_click(session, rng)))
                    await think()
                elif page == "Latent_sliders":
                    record(
                        "release",
                        await session.trigger_component_event("live_pad", "release", pad_release(session, rng)),
                    )
                    await think()
                elif page == "Upload":
                    if rng.random() < args.photos:
                        name, mime = f"student{i}-photo{_round}.jpg", "image/jpeg"
                        data = await asyncio.to_thread(phone_photo, rng)
                    else:
                        name, mime, data = f"student{i}-digit{_round}.png", "image/png", handwritten_digit(rng)
                    record("upload", await session.upload("upload_images", name, data, mime))
                    await think()
    except (TimeoutError, ProtocolError, OSError, ConnectionError) as e:
        stats["errors"].append(f"session {i} at {step}: {type(e).__name__}: {str(e)[:200]}")
    finally:
        try:
            await session.close()
        except Exception:  # already broken: nothing to close
            pass
        stats["finished"] += 1


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def server_for(args: argparse.Namespace) -> tuple[subprocess.Popen | None, str, int]:
    """(our server process or None, its URL, its pid): the running server of ``--url``/``--server-pid`` (as
    bench_latent_map.py --classroom passes it, to measure a tab beside the class), else a new one on a free port."""
    if args.url:
        return None, args.url.rstrip("/"), args.server_pid
    port = free_port()
    proc = start_server(port)
    return proc, f"http://127.0.0.1:{port}", proc.pid


async def run(args: argparse.Namespace) -> int:
    proc, url, server_pid = server_for(args)
    memory: list[tuple[float, float, str]] = []
    kinds = ("navigate", "click", "release", "upload")
    stats: dict = {k: [] for k in kinds} | {"errors": [], "bytes": 0, "finished": 0}
    start = time.perf_counter()
    try:
        if proc is not None:
            wait_healthy(url, proc, timeout=120)
        memory.append((0.0, rss_mb(server_pid), "idle"))

        async def sample_memory(label: str, until: asyncio.Event) -> None:
            while not until.is_set():
                memory.append((time.perf_counter() - start, rss_mb(server_pid), label))
                try:
                    await asyncio.wait_for(until.wait(), 2.0)
                except TimeoutError:
                    pass

        load_seconds = 0.0
        for wave in range(1, args.waves + 1):  # a second class after the first: memory must not grow again
            done = asyncio.Event()
            sampler = asyncio.create_task(sample_memory(f"class {wave}: sessions open", done))
            t0 = time.perf_counter()
            await asyncio.gather(*(student(i, url, args, stats, wave) for i in range(args.sessions)))
            load_seconds += time.perf_counter() - t0
            done.set()
            await sampler
            after = asyncio.Event()
            sampler = asyncio.create_task(sample_memory(f"class {wave}: after close", after))
            await asyncio.sleep(args.settle)
            after.set()
            await sampler
        alive = proc.poll() is None if proc is not None else Path(f"/proc/{server_pid}").exists()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)

    interactions = sum(len(stats[k]) for k in kinds)
    print(
        f"{args.waves} class(es) of {args.sessions} sessions x {args.rounds} rounds over {len(PAGES)} pages, "
        f"127.0.0.1, websocket protocol clients (bench/streamlit_client.py), think time {args.think:g} s +-50 %, "
        f"arrivals every {args.ramp:g} s"
    )
    print(
        f"{interactions} interactions in {load_seconds:.0f} s ({interactions / load_seconds:.1f}/s), "
        f"{stats['bytes'] / 1e6:.0f} MB received; server alive at the end: {alive}"
    )
    print(f"{'interaction':12s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    every = [v for k in kinds for v in stats[k]]
    for key, values in [(k, stats[k]) for k in kinds] + [("all", every)]:
        print(f"{key:12s} {len(values):5d} {pct(values, 50):8.0f} {pct(values, 95):8.0f} {pct(values, 100):8.0f}")
    print(f"errors: {len(stats['errors'])}")
    for e in stats["errors"][:15]:
        print("  ", e)
    print("server RSS (MB) over time:")
    for t, mb, label in memory[:: max(1, len(memory) // 24)] + [memory[-1]]:
        print(f"  t={t:6.1f}s  {mb:7.0f} MB  {label}")
    settled = memory[0][1]
    for wave in range(1, args.waves + 1):
        open_mb = [m for _, m, label in memory if label == f"class {wave}: sessions open"]
        after_mb = [m for _, m, label in memory if label == f"class {wave}: after close"]
        first, last = (after_mb[0], after_mb[-1]) if after_mb else (float("nan"), float("nan"))
        grew = f"{last - settled:+.0f} MB on the class before" if wave > 1 else "the first class fills the caches"
        settled = last
        print(
            f"class {wave}: peak while open {max(open_mb, default=0):.0f} MB; "
            f"after close {first:.0f} -> {last:.0f} MB ({grew})"
        )
    print(f"idle before the first class: {memory[0][1]:.0f} MB")
    ok = not stats["errors"] and alive and stats["finished"] == args.sessions * args.waves
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2, help="loops over the pages per session (bounded)")
    p.add_argument("--think", type=float, default=3.0, help="mean seconds a student pauses between two steps")
    p.add_argument("--ramp", type=float, default=1.0, help="seconds between two students' arrivals")
    p.add_argument(
        "--settle",
        type=float,
        default=130.0,
        help="seconds to watch memory after the sessions close (more than Streamlit's 120 s disconnectedSessionTTL, "
        "after which a closed tab's state, uploads and images are dropped)",
    )
    p.add_argument("--waves", type=int, default=2, help="classes one after the other (memory must level off)")
    p.add_argument("--photos", type=float, default=0.25, help="share of uploads that are 12-megapixel phone photos")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a step counts as an error")
    p.add_argument("--url", help="use this running server instead of starting one (with --server-pid for memory)")
    p.add_argument("--server-pid", type=int, help="the running server's process id, to sample its memory")
    args = p.parse_args()
    if args.url and not args.server_pid:
        p.error("--url needs --server-pid: the server's memory is part of the report")
    if not 1 <= args.sessions <= 100 or not 1 <= args.rounds <= 20 or not 1 <= args.waves <= 5:
        p.error("--sessions must be 1..100, --rounds 1..20 and --waves 1..5 (the load stays bounded)")
    if not 0 <= args.photos <= 1:
        p.error("--photos is a share of the uploads, from 0 to 1")
    os.environ.setdefault("VAE_EXPLORER_USER_CHECKPOINTS", tempfile.mkdtemp())
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
