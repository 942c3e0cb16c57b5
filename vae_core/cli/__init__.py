"""Command-line tools: ``python -m vae_core.cli.train``, ``.zoo``, ``.metrics``, ``.remove`` (shared argument
handling in ``args``)."""
