"""Shared test set-up: tests never write to the user's home cache or the repo's user_checkpoints folder."""

from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.getbasetemp() / "cache"
    monkeypatch.setenv("VAE_EXPLORER_CACHE", os.environ.get("VAE_EXPLORER_TEST_CACHE", str(cache)))
    monkeypatch.setenv("VAE_EXPLORER_USER_CHECKPOINTS", str(tmp_path_factory.getbasetemp() / "user_checkpoints"))
