"""The sidebar every page shares: links to the pages, the dataset and the VAE / autoencoder pair, their model cards.

The page links are drawn here rather than by Streamlit, whose list would name the home page "app" after app.py
(``client.showSidebarNavigation = false`` in .streamlit/config.toml); every page keeps its URL (/Latent_map, ...).

One source of truth for the choice. A choice is *explicit* once the user picks it in a box or a link names it
(``?dataset=...&vae=...&ae=...``); it is then kept in session state (so it survives moving between pages, whose
links drop the query string) and written to the URL (so the address reproduces the view). Each run reads the URL
first, then the session's memory, then the page's default. The boxes are keyed widgets whose value is set from that
choice before they are drawn, and a pick is recorded by the box's callback before the script runs: the box, the URL
and the session agree on every run, so a choice never snaps back (issue #12: an unkeyed box whose default came from
a URL one step behind was rebuilt as a new widget and lost every other pick). Once one choice is explicit the URL
names the whole pair; until then a page shows its own default (the Latent sliders page opens on the 2-D pair) and
the URL names no model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.errors import StreamlitAPIException

from vae_core.store.catalog import CheckpointInfo, find_twin
from vae_core.store.files import CheckpointError

from .loaders import checkpoint_catalog, load_model
from .safe_text import escape_markdown
from .server_tuning import tune_server

if TYPE_CHECKING:
    from vae_core.store.checkpoints import Checkpoint

DEFAULT_VAE = "mnist5k-vae-16"
PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
KEYS = ("dataset", "vae", "ae")  # query parameters, most general first: a new dataset forgets the models after it


@dataclass(frozen=True)
class ModelPair:
    """The models a page compares: a VAE and its plain-autoencoder twin (same data, same latent dim).

    The checkpoints load on first use (once per server process, ``ui.loaders``), so a page that needs only the
    models' cards or their file paths never waits for torch."""

    dataset: str
    vae_info: CheckpointInfo
    ae_info: CheckpointInfo | None

    @property
    def latent_dim(self) -> int:
        return self.vae_info.latent_dim

    @property
    def vae(self) -> Checkpoint:
        return load_model(self.vae_info)

    @property
    def ae(self) -> Checkpoint | None:
        return load_model(self.ae_info) if self.ae_info is not None else None

    def infos(self) -> list[tuple[str, CheckpointInfo]]:
        """[("VAE", info), ("Autoencoder", info)] with the AE only when there is one."""
        out = [("VAE", self.vae_info)]
        if self.ae_info is not None:
            out.append(("Autoencoder", self.ae_info))
        return out

    def both(self) -> list[tuple[str, CheckpointInfo, Checkpoint]]:
        """[("VAE", info, ckpt), ("Autoencoder", info, ckpt)] with the AE only when there is one."""
        return [(label, info, load_model(info)) for label, info in self.infos()]


def app_pages() -> list[tuple[str, str]]:
    """(script, label) of every page, Home first: ("pages/3_Latent_sliders.py", "Latent sliders"), in the order of
    the files' number prefixes, as Streamlit orders them."""
    scripts = sorted(PAGES_DIR.glob("[0-9]*_*.py"), key=lambda p: (int(p.stem.split("_", 1)[0]), p.stem))
    return [("app.py", "Home")] + [(f"pages/{p.name}", p.stem.split("_", 1)[1].replace("_", " ")) for p in scripts]


def page_links() -> None:
    """A link per page (the current one highlighted). A page run on its own, as in tests, has no others to link."""
    try:
        for script, label in app_pages():
            st.page_link(script, label=label)
    except StreamlitAPIException:
        pass


def _memory(key: str) -> str:
    return f"_choice::{key}"


def _widget(key: str) -> str:
    return f"sidebar::{key}"


def _forget(key: str) -> None:
    st.session_state.pop(_memory(key), None)
    if key in st.query_params:
        del st.query_params[key]


def _picked(key: str) -> None:
    """A box's callback: the user's pick becomes the explicit choice, in the session and the URL at once; the choices
    that depended on it (the models of another dataset, the twin of another VAE) are forgotten."""
    value = st.session_state[_widget(key)]
    st.session_state[_memory(key)] = value
    st.query_params[key] = value
    for later in KEYS[KEYS.index(key) + 1 :]:
        _forget(later)


def explicit_choice(key: str, options: list[str]) -> str | None:
    """The URL's value if it is one of ``options``, else the session's memory if it is, else None. A URL value that
    is no option here (a model of another size, one removed from this server) is dropped from the URL silently."""
    url = st.query_params.get(key)
    if url in options:
        st.session_state[_memory(key)] = url
        return url
    if url is not None:
        del st.query_params[key]
    remembered = st.session_state.get(_memory(key))
    return remembered if remembered in options else None


def _choose(
    key: str, label: str, options: list[str], fallback: str | None, fmt: Callable[[str], str] = str
) -> tuple[str, bool]:
    """One box: the explicit choice, else ``fallback``, else the first option. Returns (value, whether explicit)."""
    chosen = explicit_choice(key, options)
    value = chosen or (fallback if fallback in options else options[0])
    # Set on every run, before the box exists: on another page the same key is another widget, which would otherwise
    # open on its first option while session state still showed the previous page's value.
    st.session_state[_widget(key)] = value
    st.selectbox(label, options, key=_widget(key), format_func=fmt, on_change=_picked, args=(key,))
    return value, chosen is not None


def _write_url(values: dict[str, str]) -> None:
    """Once a choice has been made, the URL names the whole pair (dataset, VAE, autoencoder), so it reproduces it."""
    for key, value in values.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


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


def model_sidebar(
    default_vae: str = DEFAULT_VAE, latent_dim: int | None = None, *, load: bool = True
) -> ModelPair | None:
    """Render the shared sidebar and return the chosen pair, or None (with a message) if there is none.

    ``default_vae`` is this page's choice when the user has made none; ``latent_dim`` restricts the choice (e.g. a
    view that needs a 2-D latent). ``load`` loads both models now, so that a broken file is reported here; the home
    page passes False and its models load when first used."""
    tune_server()
    if load:
        import pandas  # noqa: F401 - before this page draws any plotly figure: see ui/__init__.py
    infos = checkpoint_catalog()
    vaes = [i for i in infos if i.kind == "vae" and (latent_dim is None or i.latent_dim == latent_dim)]
    with st.sidebar:
        page_links()
        st.header("Models")
        if not vaes:
            st.error(
                "No VAE checkpoints found. The shipped ones live in `checkpoints/`; rebuild them with "
                "`python -m vae_core.cli.zoo`, or train one on the Train page."
            )
            return None
        datasets = sorted({i.dataset for i in vaes})
        default_ds = next((i.dataset for i in vaes if i.name == default_vae), datasets[0])
        ds, explicit = _choose("dataset", "Dataset", datasets, default_ds)
        options = {i.name: i for i in vaes if i.dataset == ds}
        name, chosen = _choose("vae", "VAE", list(options), default_vae, lambda n: options[n].label)
        vae_info, values = options[name], {"dataset": ds, "vae": name}
        twins = {i.name: i for i in infos if i.kind == "ae" and i.dataset == ds and i.latent_dim == vae_info.latent_dim}
        ae_info = None
        explicit |= chosen
        if twins:
            twin = find_twin(infos, vae_info)
            values["ae"], chosen = _choose("ae", "Autoencoder (comparison)", list(twins), twin.name if twin else None)
            ae_info, explicit = twins[values["ae"]], explicit or chosen
        else:
            _forget("ae")
            st.info("No autoencoder with this latent dim on this dataset: pages show the VAE alone.")
        if explicit:
            _write_url(values)
        pair = ModelPair(dataset=ds, vae_info=vae_info, ae_info=ae_info)
        if load:
            try:
                pair.both()
            except CheckpointError as e:
                st.error(f"This checkpoint cannot be loaded: {escape_markdown(e, 500)}")
                return None
        with st.expander("Model cards", expanded=False):
            for _, info in pair.infos():
                model_card(info)
    return pair
