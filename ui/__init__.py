"""The Streamlit-only layer: cached loaders, the shared sidebar, figures and the live latent pad component."""
