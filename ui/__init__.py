"""Streamlit-only helpers for the pages: cached loaders, the shared sidebar, figures and browser components.

Importing this package loads neither torch nor pandas, so the home page paints its first digits within a second of
its session starting. pandas is imported by ``ui.sidebar.model_sidebar`` on every page that loads its models, before
the page draws: plotly looks pandas up in ``sys.modules`` without importing it, so when two sessions' first reruns ran
in parallel, one of them found a half-imported pandas and crashed ("partially initialized module 'pandas' has no
attribute 'Series'", seen under bench/load_classroom.py). An ``import pandas`` waits, under Python's import lock,
until another thread's import of it is complete.
"""
