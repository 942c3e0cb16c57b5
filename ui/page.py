"""Every page's set-up in one call: the browser tab's title and icon, the wide layout, and the shared model sidebar.

    pair = page("Latent map", "🗺️")      # the tab reads "Latent map · VAE explorer"
    if pair is None:
        st.stop()

Also here: the server's warm-up. The home page paints without torch; once it has, a background thread imports
what the other pages need (torch, pandas, the library), so the first click on another page does not wait for it.
"""

from __future__ import annotations

import importlib
import logging
import threading

import streamlit as st

from .sidebar import DEFAULT_VAE, ModelPair, model_sidebar

APP_NAME = "VAE explorer"
SEPARATOR = " · "  # between the page's title and the app's name in the browser tab
# What the pages import beyond the home page, heaviest first (torch alone takes seconds on a busy machine).
WARM_MODULES = (
    "torch",
    "pandas",
    "vae_core.latent.codes",
    "vae_core.latent.axes",
    "vae_core.export",
    "vae_core.evaluation.classifier",
    "ui.loaders",
)

logger = logging.getLogger(__name__)


def tab_title(title: str) -> str:
    """'Latent map' -> 'Latent map · VAE explorer'; the home page's title is the app's name alone."""
    return title if title == APP_NAME else f"{title}{SEPARATOR}{APP_NAME}"


def page(
    title: str, icon: str, *, default_vae: str = DEFAULT_VAE, latent_dim: int | None = None, load: bool = True
) -> ModelPair | None:
    """Set the page's tab title and icon (wide layout) and draw the shared sidebar; return the chosen pair or None
    (the sidebar then says why). ``default_vae`` is the page's model while the user has chosen none; ``load=False``
    leaves loading the models to their first use (the home page, which paints before torch is imported)."""
    st.set_page_config(page_title=tab_title(title), page_icon=icon, layout="wide")
    return model_sidebar(default_vae, latent_dim, load=load)


def _import_all() -> None:
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a warm-up is an optimisation; the page that needs the module will say why
            logger.exception("warm-up: importing %s failed", name)


WARM_UP_DELAY_S = 2.0  # importing torch holds the GIL for seconds: first let the browser fetch the home page's images


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server process, after the home page has painted: import the other pages' modules in the background."""
    thread = threading.Timer(WARM_UP_DELAY_S, _import_all)
    thread.name, thread.daemon = "vae-explorer-warm-up", True
    thread.start()
    return thread
