"""The sentences the Smoothness and Interpolate pages use to compare the two models. Every number in them comes
from the metrics files through ``vae_core.evaluation.contrast`` (never typed by hand), and every comparison says
its verdict: a difference inside its 95 % interval is a tie."""

from __future__ import annotations

from vae_core.evaluation.contrast import ContrastRow, TypicalPair, contrast_row, tally
from vae_core.evaluation.measures import SPECS
from vae_core.evaluation.scoreboard import Scores

NAMES = ("VAE", "AE")
VERDICT_WORDS = {"VAE better": "VAE better", "AE better": "autoencoder better", "tie": "a tie"}


def row(key: str, vae: Scores, ae: Scores) -> ContrastRow:
    return contrast_row(SPECS[key], vae, ae, NAMES)


def versus(r: ContrastRow) -> str:
    """'8.2 % vs 16.6 % (VAE better)': the two values and the verdict."""
    spec, d = r.spec, r.difference
    verdict = VERDICT_WORDS.get(r.verdict, r.verdict)
    if r.verdict == "tie" and d is not None and r.seeds and (d.lo > 0 or d.hi < 0):
        verdict += f": only {r.seeds[0]} of {r.seeds[1]} training seeds agree"
    return f"{spec.format(r.a[0])} vs {spec.format(r.b[0])} ({verdict})"


def summary(vae: Scores, ae: Scores) -> str:
    """How the contests came out, counted."""
    counts = {k: len(v) for k, v in tally([row(s, vae, ae) for s in SPECS]).items()}
    ties = counts.get("tie", 0)
    parts = [f"the **VAE** is better on {counts.get('VAE better', 0)}",
             f"the **autoencoder** on {counts.get('AE better', 0)}",
             f"{ties} {'is a tie' if ties == 1 else 'are ties'}"]  # fmt: skip
    return (
        "Of the measures that are a contest, " + ", ".join(parts) + ". A difference counts only when its 95 % "
        "bootstrap interval leaves out zero (and, where other training seeds were measured, every seed agrees); "
        "otherwise it is a tie."
    )


def fair_regions(vae: Scores, ae: Scores) -> str:
    """Holes under N(0, I) beside holes in each model's own regions, and why they can differ."""
    kl = row("code_kl", vae, ae)
    return (
        f"**Holes, measured fairly.** Under N(0, I), the VAE's own prior: {versus(row('prior_holes', vae, ae))}. "
        "But nothing asked the autoencoder to put its codes there: a Gaussian fitted to its codes is "
        f"{SPECS['code_kl'].format(kl.b[0])} nats from N(0, I) (the VAE's: {SPECS['code_kl'].format(kl.a[0])}). In "
        f"each model's own regions: under a Gaussian fitted to its codes {versus(row('fitted_holes', vae, ae))}; "
        f"uniformly in the box of its codes {versus(row('box_holes', vae, ae))}."
    )


def smudges_and_blends(vae: Scores, ae: Scores) -> str:
    """What the smudge judge is, its calibration on real data, and the smudge contrasts."""
    held = vae.details.get("judge", {}).get("held_out", {})
    digits, blends = held.get("test digits", {}), held.get("blends", {})
    pct = SPECS["prior_smudges"].format
    calibration = ""
    if digits and blends:
        calibration = (
            f" On real data it calls {pct(digits.get('smudge'))} of test digits and {pct(blends.get('smudge'))} of "
            "blends of two test digits smudges."
        )
    return (
        "**A smudge is not a blend.** Between two clusters a smooth space should decode a morph of two digits; "
        "only an image that looks like no digit and no blend of two counts as a smudge (judged in the classifier's "
        f"feature space against real digits and their blends, and by its top two classes).{calibration} Smudges "
        f"under N(0, I): {versus(row('prior_smudges', vae, ae))}; under a fitted Gaussian: "
        f"{versus(row('fitted_smudges', vae, ae))}; in the box of the codes: {versus(row('box_smudges', vae, ae))}."
    )


def paths(vae: Scores, ae: Scores) -> str:
    """The interpolation contrasts over all scored pairs."""
    n = len(vae.paths.get("pairs", []))
    return (
        f"**Over {n} random pairs** of test images of different digits: largest step "
        f"{versus(row('path_max_step', vae, ae))}; share of the path in holes {versus(row('path_holes', vae, ae))}; "
        f"share of the path smudged {versus(row('path_smudges', vae, ae))}."
    )


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def standing(t: TypicalPair, scores: Scores, default: bool) -> str:
    """Where this pair stands among the pairs ``scores`` walked; for the default pair, why it is the default."""
    a, b, d = (ordinal(round(p)) for p in t.percentiles)
    n_pairs, n_steps = len(scores.paths.get("pairs", [])), scores.paths.get("n_steps")
    spec = SPECS["path_max_step"]
    where = (
        f"Its largest step ({spec.format(t.values[0])} VAE, {spec.format(t.values[1])} autoencoder, {n_steps} steps) "
        f"is at the {a} percentile of the {n_pairs} random pairs in the metrics files for the VAE, the {b} for the "
        f"autoencoder, the {d} for the difference."
    )
    if default:
        return (
            f"**A typical pair, chosen by measurement.** {where} Rule: nearest the median of all three, among pairs "
            "whose ends both models reconstruct as their own digit."
        )
    return where
