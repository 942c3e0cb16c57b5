"""Home page: samples from both models, what a VAE is, tied to the code this app runs, and where to go next.

The home page paints without torch: its digits come from the numpy decoder (``vae_core.numpy_decoder``) and the code
it shows is read from the source files, so a cold server shows a decoded digit within seconds; torch is imported in
the background once it has painted (``ui.page.warm_up``).
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import streamlit as st

from ui.figures import png, prior_samples
from ui.page import APP_NAME, page, warm_up
from ui.sidebar import app_pages
from vae_core.latent.tiles import tile_images

HERE = Path(__file__).parent
# Streamlit sends each element as the script draws it. Left to itself a new tab got the whole page in one burst and
# rendered it all (code highlighting, formulas) before it even fetched the digits: ~1 s more to the first digit on a
# warm server (bench/bench_cold_start.py: 2.9-3.2 s -> 1.7-2.2 s, the floor of an app with one line of text).
FIRST_PAINT_PAUSE_S = 0.5
LESSON = "pages/0_Lesson.py"
WHAT = {  # page label -> what a student does there
    "Lesson": "the VAE's story step by step, with the real models and a prediction to make at each step.",
    "Train": "train a VAE, beta-VAE or autoencoder and watch the loss terms live.",
    "Latent map": "the codes of the test images in 2-D (PCA, t-SNE); point anywhere to decode.",
    "Latent sliders": "drag through the latent space and watch the image morph while you drag.",
    "Interpolate": "walk in a straight line between two images' codes.",
    "Upload": "your own images or drawings: reconstruction, and where they land.",
    "Smoothness": "measure how much of each latent space decodes to something meaningful.",
}


def source(path: str, qualname: str) -> str:
    """The source of a function in one of our files (``"VAE.reparameterize"``), read without importing the module."""
    text = (HERE / path).read_text(encoding="utf-8")
    nodes: list[ast.AST] = [ast.parse(text)]
    for name in qualname.split("."):
        body = [n for parent in nodes for n in getattr(parent, "body", [])]
        nodes = [n for n in body if getattr(n, "name", None) == name]
    if not nodes:
        raise LookupError(f"{qualname} is not defined in {path}")
    node = nodes[0]
    lines = text.splitlines()[node.lineno - 1 - len(node.decorator_list) : node.end_lineno]
    indent = len(lines[0]) - len(lines[0].lstrip())
    return "\n".join(line[indent:] for line in lines)


def home() -> None:
    """The page, top to bottom; the prior samples come first, so a projector shows them without scrolling."""
    pair = page(APP_NAME, "🌀", load=False)
    st.title("VAE explorer")
    st.markdown(
        "See and feel what a **variational autoencoder** learns, next to a **plain autoencoder** built from the "
        "same two networks. Pick the models in the sidebar, then open a page on the left."
    )
    st.page_link(LESSON, label="**Teaching a class? Start the guided lesson**", icon="🎓")
    if pair is not None:
        st.subheader("Samples from the prior, z ~ N(0, I)")
        st.caption(
            "The same 8 random codes, decoded by each model. The VAE was trained for this; the autoencoder was not."
        )
        for col, (label, info) in zip(st.columns(2, gap="medium"), pair.infos(), strict=False):
            samples = tile_images(prior_samples(info, n=8, seed=0), n_cols=4, pad=2)
            col.image(png(samples, 4), caption=f"{label} ({info.name})")
        warm_up()
        if not st.session_state.get("_home_painted"):  # a tab's first run: let the browser draw the digits first
            st.session_state["_home_painted"] = True
            time.sleep(FIRST_PAINT_PAUSE_S)

    st.header("Two networks and one objective")
    st.markdown(
        r"""
The **encoder** reads an image $x$ and predicts the mean $\mu(x)$ and the (diagonal) variance
$\sigma^2(x)$ of a Gaussian $q(z \mid x)$ over latent codes $z$. The **decoder** reads a code $z$ and predicts
the parameters of $p(x \mid z)$: one Bernoulli probability per pixel (or a Gaussian mean with a learned variance).
Training maximises the **evidence lower bound** on $\log p(x)$:

$$
\begin{aligned}
\mathrm{ELBO}(x) = {} & \underbrace{\mathbb{E}_{q(z \mid x)}[\log p(x \mid z)]}_{\text{reconstruction}} \\
& - \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{stay close to the prior}}
\end{aligned}
$$

The first term is estimated by Monte Carlo, with codes drawn by the **reparameterization trick**; the KL between
two Gaussians has a closed form. This is the code this app runs:
"""
    )
    left, right = st.columns(2, gap="medium")
    left.code(source("vae_core/model.py", "VAE.reparameterize"), language="python", wrap_lines=True)
    right.code(source("vae_core/objectives.py", "kl_divergence"), language="python", wrap_lines=True)
    with st.expander("The ELBO, term by term (vae_core/objectives.py)"):
        st.code(source("vae_core/objectives.py", "elbo"), language="python", wrap_lines=True)

    st.header("Why the autoencoder's latent space has holes")
    st.markdown(
        """
A **plain autoencoder** uses the same networks but encodes each image to a single point and is trained only to
reconstruct. Nothing asks its codes to fill the space: classes end up as separate islands with empty sea in
between, and a code picked in the sea decodes to a smudge. The **VAE** is asked two extra things: each image is a
little *cloud* of codes (so nearby codes must decode to similar images), and all the clouds together must look
like the prior $\\mathcal{N}(0, I)$ (so there is no empty sea). That is why any point of a VAE's latent space
decodes to something meaningful. The KL weight **beta** slides between the two: beta = 0 is an autoencoder with
noise, large beta collapses every code to the prior.
"""
    )
    st.header("The pages")
    for script, label in app_pages()[1:]:
        link, what = st.columns([1, 4], vertical_alignment="center")  # a label never cut off: it wraps beside
        link.page_link(script, label=f"**{label}**")
        what.markdown(WHAT.get(label, ""))


home()
