"""Training in the background for the app: one job (``job``), slots that cap concurrent trainings (``slots``), and
the registry of every job by owner (``registry``)."""
