"""Issue 11's crafted checkpoint files, uploaded through the Upload page as a user would: each gets a clear message
(never Streamlit's generic error or a traceback), and a good file whose header length happens to look like a pickle is
accepted and can be added under a free name (never a shipped model's)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from vae_core.config import ModelConfig
from vae_core.model import build_model
from vae_core.store.checkpoints import checkpoint_bytes

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "5_Upload.py")


def tiny(**config) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(**{"latent_dim": 2, "channels": (4, 4, 4), "hidden": 8, **config}))


GOOD = checkpoint_bytes(tiny(), {"dataset": "mnist5k"})


def split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join(header: dict | str, body: bytes) -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def edited(edit) -> bytes:
    header, body = split(GOOD)
    edit(header, next(k for k in header if k != "__metadata__"))
    return join(header, body)


def huge_weights() -> bytes:
    model = tiny()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1e30).add_(1e30)
    return checkpoint_bytes(model, {"dataset": "mnist5k"})


def wide_logvar() -> bytes:
    header, body = split(checkpoint_bytes(tiny(likelihood="gaussian")))
    config = json.loads(header["__metadata__"]["model_config"])
    header["__metadata__"]["model_config"] = json.dumps({**config, "logvar_min": -1e308, "logvar_max": 1e308})
    return join(header, body)


ATTACKS = {
    "metadata-list": (edited(lambda h, k: h.update(__metadata__=[1])), "__metadata__ must map names to strings"),
    "metadata-string": (edited(lambda h, k: h.update(__metadata__="x")), "__metadata__ must map names to strings"),
    "offsets-string": (edited(lambda h, k: h[k].update(data_offsets="0,4")), "malformed entry in the header"),
    "offsets-one": (edited(lambda h, k: h[k].update(data_offsets=[1])), "malformed entry in the header"),
    "shape-int": (edited(lambda h, k: h[k].update(shape=3)), "malformed entry in the header"),
    "deep-json": (join("{" + '"a":' * 1 + "[" * 50_000 + "]" * 50_000 + "}", b""), "header is not valid JSON"),
    "5000-digits": (join('{"a": ' + "7" * 5000 + "}", b""), "header is not valid JSON"),
    "wide-logvar": (wide_logvar(), "logvar_min must be between -20.0 and 5.0"),
    "huge-weights": (huge_weights(), "it is refused"),
    "pickle": (b"\x80\x04\x95" + b"\0" * 40, "looks like a pickled PyTorch file"),
}


def upload(files) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.file_uploader(key="upload_checkpoint").set_value(files)
    at.run()
    assert not at.exception, at.exception
    return at


def visible(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text.replace("**", ""))


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_a_crafted_checkpoint_gets_a_clear_message(attack):
    data, reason = ATTACKS[attack]
    at = upload([(f"{attack}.safetensors", data, "application/octet-stream")])
    message = visible(at.error[0].value)
    assert message.startswith(f"{attack}.safetensors was not loaded: ")
    assert reason in message
    assert "Traceback" not in message


def test_a_good_checkpoint_whose_header_length_looks_like_a_pickle_is_accepted_but_not_under_a_shipped_name():
    model = tiny()
    n0 = struct.unpack("<Q", checkpoint_bytes(model, {"dataset": "mnist5k", "pad": ""})[:8])[0]
    target = 0x80 + 0x100 * (n0 // 0x100 + 1)
    data = next(
        d
        for pad in range(target - n0 - 8, target - n0 + 8)
        if (d := checkpoint_bytes(model, {"dataset": "mnist5k", "pad": "x" * pad}))[0] == 0x80
    )
    at = upload([("lucky.safetensors", data, "application/octet-stream")])
    assert "lucky.safetensors is a valid checkpoint" in visible(at.success[0].value)
    at.text_input(key="checkpoint_name").set_value("mnist5k-vae-16")
    at.button[0].click().run()
    assert not at.exception
    assert "a shipped model named 'mnist5k-vae-16' already exists; choose another name" in visible(at.error[0].value)
