"""Storage: one file format (``files``), model checkpoints, the catalog of checkpoints on disk, and users' own
checkpoint files."""
