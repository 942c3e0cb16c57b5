"""The sidebar every page shares: choose the dataset and the VAE / autoencoder pair; show their model cards.

The choice lives in the URL (?dataset=...&vae=...&ae=...) so a teacher can share a view, and in session state
so it survives moving between pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from vae_core.store.catalog import CheckpointInfo, find_twin
from vae_core.store.checkpoints import Checkpoint, CheckpointError

from .loaders import checkpoint_catalog, load_model
from .safe_text import escape_markdown
from .server_tuning import tune_server

DEFAULT_VAE = "mnist5k-vae-16"


@dataclass(frozen=True)
class ModelPair:
    """The models a page compares: a VAE and its plain-autoencoder twin (same data, same latent dim)."""

    dataset: str
    vae_info: CheckpointInfo
    vae: Checkpoint
    ae_info: CheckpointInfo | None
    ae: Checkpoint | None

    @property
    def latent_dim(self) -> int:
        return self.vae_info.latent_dim

    def both(self) -> list[tuple[str, CheckpointInfo, Checkpoint]]:
        """[("VAE", info, ckpt), ("Autoencoder", info, ckpt)] with the AE only when there is one."""
        out = [("VAE", self.vae_info, self.vae)]
        if self.ae is not None and self.ae_info is not None:
            out.append(("Autoencoder", self.ae_info, self.ae))
        return out


def _remember(key: str, value: str) -> None:
    st.session_state[f"_{key}"] = value
    if st.query_params.get(key) != value:
        st.query_params[key] = value


def _initial(key: str, options: list[str], default: str | None) -> int:
    for candidate in (st.query_params.get(key), st.session_state.get(f"_{key}"), default):
        if candidate in options:
            return options.index(candidate)
    return 0


def _nats(value: object, sign: float = 1.0) -> str:
    """A metric from a checkpoint's metadata, which anyone can write: a number shown to 0.1, anything else as "?"."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return f"{sign * value:.1f}" if ok else "?"


def model_card(info: CheckpointInfo) -> None:
    """Data, latent dim, beta, epochs and the test ELBO terms of one checkpoint (its metadata shown as text)."""
    m = info.meta.metrics
    lines = [
        f"**{escape_markdown(info.name)}** - {escape_markdown(info.description)}",
        f"data {escape_markdown(info.dataset)} · latent dim {info.latent_dim} · beta {info.beta:g} · "
        f"{info.meta.epochs if info.meta.epochs is not None else '?'} epochs",
    ]
    if "test_recon" in m:
        terms = f"test recon {_nats(m['test_recon'])}"
        if info.kind == "vae":
            terms += f" · KL {_nats(m.get('test_kl', 0))} · -ELBO {_nats(m.get('test_elbo', 0), -1)} nats"
        if "test_iwae_nll" in m:
            terms += f" · NLL (IWAE) {_nats(m['test_iwae_nll'])}"
        lines.append(terms)
    st.caption("  \n".join(lines))


def model_sidebar(default_vae: str = DEFAULT_VAE, latent_dim: int | None = None) -> ModelPair | None:
    """Render the shared sidebar and return the chosen pair, or None (with a message) if there is none.

    ``latent_dim`` restricts the choice (e.g. the manifold grid needs a 2-D latent)."""
    tune_server()
    infos = checkpoint_catalog()
    vaes = [i for i in infos if i.kind == "vae" and (latent_dim is None or i.latent_dim == latent_dim)]
    with st.sidebar:
        st.header("Models")
        if not vaes:
            st.error(
                "No VAE checkpoints found. The shipped ones live in `checkpoints/`; rebuild them with "
                "`python -m vae_core.cli.zoo`, or train one on the Train page."
            )
            return None
        datasets = sorted({i.dataset for i in vaes})
        default_ds = next((i.dataset for i in vaes if i.name == default_vae), datasets[0])
        ds = st.selectbox("Dataset", datasets, index=_initial("dataset", datasets, default_ds))
        _remember("dataset", ds)
        options = [i for i in vaes if i.dataset == ds]
        names = [i.name for i in options]
        name = st.selectbox(
            "VAE",
            names,
            index=_initial("vae", names, default_vae),
            format_func=lambda n: next(i.label for i in options if i.name == n),
        )
        _remember("vae", name)
        vae_info = options[names.index(name)]
        twins = [i for i in infos if i.kind == "ae" and i.dataset == ds and i.latent_dim == vae_info.latent_dim]
        twin = find_twin(infos, vae_info)
        ae_info = None
        if twins:
            ae_names = [i.name for i in twins]
            ae_name = st.selectbox(
                "Autoencoder (comparison)",
                ae_names,
                index=_initial("ae", ae_names, twin.name if twin else None),
            )
            _remember("ae", ae_name)
            ae_info = twins[ae_names.index(ae_name)]
        else:
            st.info("No autoencoder with this latent dim on this dataset: pages show the VAE alone.")
        try:
            vae = load_model(vae_info)
            ae = load_model(ae_info) if ae_info else None
        except CheckpointError as e:
            st.error(f"This checkpoint cannot be loaded: {escape_markdown(e, 500)}")
            return None
        with st.expander("Model cards", expanded=False):
            model_card(vae_info)
            if ae_info:
                model_card(ae_info)
    return ModelPair(dataset=ds, vae_info=vae_info, vae=vae, ae_info=ae_info, ae=ae)
