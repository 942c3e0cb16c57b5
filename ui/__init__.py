"""Streamlit-only helpers for the pages: cached loaders, the shared sidebar, figures and browser components.

pandas is imported here, before any page can draw: plotly looks pandas up in ``sys.modules`` without importing it,
so when two sessions' first reruns ran in parallel, one of them found a half-imported pandas and crashed
("partially initialized module 'pandas' has no attribute 'Series'", seen under bench/load_classroom.py). Importing
it with the package means every page waits, under Python's import lock, until it is complete.
"""

import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
