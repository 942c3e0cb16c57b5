"""Measuring what a model learned: a digit classifier, validity of decoded images, smoothness, disentanglement, the
scoreboard that combines them, and the results file beside each checkpoint."""
