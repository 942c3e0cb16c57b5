"""Home page: what a VAE is, tied to the code that runs in this app, and the model pair every page compares."""

from __future__ import annotations

import inspect

import streamlit as st

from ui.figures import image_row
from ui.sidebar import model_sidebar
from vae_core.model import VAE
from vae_core.objectives import elbo, kl_divergence

st.set_page_config(page_title="VAE explorer", page_icon="🌀", layout="wide")

st.title("VAE explorer")
st.markdown(
    "See and feel what a **variational autoencoder** learns, next to a **plain autoencoder** built from the "
    "same two networks. Pick the models in the sidebar, then open a page on the left."
)

pair = model_sidebar()

st.header("Two networks and one objective")
st.markdown(
    r"""
The **encoder** reads an image $x$ and predicts the mean $\mu(x)$ and the (diagonal) variance
$\sigma^2(x)$ of a Gaussian $q(z \mid x)$ over latent codes $z$. The **decoder** reads a code $z$ and predicts
the parameters of $p(x \mid z)$: one Bernoulli probability per pixel (or a Gaussian mean with a learned variance).
Training maximises the **evidence lower bound** on $\log p(x)$:

$$
\mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q(z \mid x)}[\log p(x \mid z)]}_{\text{reconstruction}}
- \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{stay close to the prior}}
$$

The first term is estimated by Monte Carlo, with codes drawn by the **reparameterization trick**; the KL between
two Gaussians has a closed form. This is the code this app runs:
"""
)
col1, col2 = st.columns(2)
with col1:
    st.code(inspect.getsource(VAE.reparameterize), language="python")
with col2:
    st.code(inspect.getsource(kl_divergence), language="python")
with st.expander("The ELBO, term by term (vae_core/objectives.py)"):
    st.code(inspect.getsource(elbo), language="python")

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

if pair is not None:
    st.subheader("Samples from the prior, z ~ N(0, I)")
    st.caption("The same 8 random codes decoded by each model. The VAE was trained for this; the autoencoder was not.")
    for label, _info, ckpt in pair.both():
        image_row(ckpt.model, label, n=8, seed=0)

st.header("The pages")
st.markdown(
    """
- **Train**: train a VAE, beta-VAE or autoencoder and watch the loss terms live.
- **Latent map**: the codes of the test images in 2-D (PCA, t-SNE); click anywhere to decode.
- **Latent sliders**: drag through the latent space and watch the image morph while you drag.
- **Interpolate**: walk in a straight line between two images' codes.
- **Upload**: your own images or drawings: reconstruction, and where they land.
- **Smoothness**: measure how much of each latent space decodes to something meaningful.
"""
)
