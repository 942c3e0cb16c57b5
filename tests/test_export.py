"""The browser's decoder payload: it round-trips, it is small, and the JavaScript math (re-done here in numpy,
loop for loop) reproduces the torch decoder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.export import FORMAT, DecoderPayload, ExportError, export_decoder
from vae_core.model import build_model


def reference_decode(payload: DecoderPayload, z: np.ndarray) -> np.ndarray:
    """z (D,) -> the decoder's mean image (28, 28), computed the way ``ui/live_pad.js`` computes it.

    Layout: feature maps are (C, H, W). A transposed convolution *scatters* every input pixel through the
    kernel: with weight (C_in, C_out, k, k),

        out[o, y, x] += in[i, iy, ix] * w[i, o, ky, kx]   where  y = iy * stride - pad + ky,  x = ix * stride - pad + kx

    for every (ky, kx) that lands inside the output; out starts at the bias. Output size (n - 1) * stride - 2 pad + k.
    """
    t = payload.tensors()
    h = np.asarray(z, dtype=np.float64)
    for layer in payload.manifest["layers"]:
        op = layer["op"]
        if op == "linear":
            h = t[layer["weight"]].astype(np.float64) @ h + t[layer["bias"]]
        elif op == "relu":
            h = np.maximum(h, 0.0)
        elif op == "reshape":
            h = h.reshape(layer["shape"])
        elif op == "conv_transpose2d":
            w, k, s, p = t[layer["weight"]].astype(np.float64), layer["kernel_size"], layer["stride"], layer["padding"]
            n_in, n_out = layer["in_size"], layer["out_size"]
            assert n_out == (n_in - 1) * s - 2 * p + k
            out = np.repeat(t[layer["bias"]].astype(np.float64)[:, None, None], n_out, 1).repeat(n_out, 2)
            for iy in range(n_in):
                for ix in range(n_in):
                    v = h[:, iy, ix]  # (C_in,)
                    for ky in range(k):
                        y = iy * s - p + ky
                        if not 0 <= y < n_out:
                            continue
                        for kx in range(k):
                            x = ix * s - p + kx
                            if 0 <= x < n_out:
                                out[:, y, x] += v @ w[:, :, ky, kx]  # sum over i of in[i] * w[i, o]
            h = out
        elif op == "sigmoid":
            h = 1.0 / (1.0 + np.exp(-h))
        else:
            raise AssertionError(f"unknown op {op}")
    return h.reshape(28, 28)


def _model(latent_dim: int, likelihood: str = "bernoulli", half: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(ModelConfig(latent_dim=latent_dim, likelihood=likelihood)).eval()
    with torch.no_grad():  # untrained biases are tiny: make every layer matter
        for p in model.decoder.parameters():
            p.add_(torch.randn_like(p) * 0.05)
            if half:
                p.copy_(p.half().float())
    return model


@pytest.mark.parametrize("latent_dim", [2, 8, 16])
def test_numpy_reimplementation_of_the_js_math_matches_torch(latent_dim):
    model = _model(latent_dim)
    payload = DecoderPayload.from_json(json.loads(json.dumps(export_decoder(model, "m").to_json())))
    z = torch.randn(3, latent_dim, generator=torch.Generator().manual_seed(1)) * 1.5
    with torch.no_grad():
        want = model.decoder_mean(z)[:, 0].numpy()
    for i in range(3):
        got = reference_decode(payload, z[i].numpy())
        assert np.abs(got - want[i]).max() < 1e-5


def test_payload_round_trips_every_tensor_exactly():
    model = _model(8, likelihood="gaussian")
    payload = export_decoder(model, "gauss")
    back = DecoderPayload.from_json(json.loads(json.dumps(payload.to_json())))
    assert back.key == payload.key and back.blob == payload.blob
    tensors = back.tensors()
    for name, value in model.decoder.state_dict().items():
        np.testing.assert_array_equal(tensors[name], value.numpy())
    np.testing.assert_allclose(tensors["decoder_std"], model.decoder_std().detach().reshape(28, 28).numpy())
    assert back.manifest["format"] == FORMAT and back.manifest["likelihood"] == "gaussian"
    assert [layer["op"] for layer in back.manifest["layers"]] == [
        "linear",
        "relu",
        "linear",
        "relu",
        "reshape",
        "conv_transpose2d",
        "relu",
        "conv_transpose2d",
        "relu",
        "conv_transpose2d",
        "sigmoid",
    ]
    assert [layer.get("out_size") for layer in back.manifest["layers"] if "out_size" in layer] == [7, 14, 28]


def test_half_precision_checkpoints_ship_as_float16_losslessly():
    full, half = export_decoder(_model(2), "a"), export_decoder(_model(2, half=True), "b")
    assert {s["dtype"] for s in full.manifest["tensors"]} == {"f32"}
    assert {s["dtype"] for s in half.manifest["tensors"]} == {"f16"}
    assert len(half.blob) < 0.51 * len(full.blob)
    model = _model(2, half=True)
    for name, value in model.decoder.state_dict().items():
        np.testing.assert_array_equal(half.tensors()[name], value.numpy())


def test_the_key_names_the_model_and_changes_with_its_weights():
    a, b = export_decoder(_model(2, seed=0), "mnist-vae"), export_decoder(_model(2, seed=1), "mnist-vae")
    assert a.key.startswith("mnist-vae@") and a.key != b.key
    assert export_decoder(_model(2, seed=0), "mnist-vae").key == a.key


def test_bad_payloads_and_unsupported_layers_are_refused_with_a_reason():
    with pytest.raises(ExportError, match="format"):
        DecoderPayload.from_json({"key": "k", "manifest": {"format": "other"}, "data": ""})
    with pytest.raises(ExportError, match="needs 'key'"):
        DecoderPayload.from_json({"manifest": {}})
    payload = export_decoder(_model(2), "m")
    short = DecoderPayload(payload.key, payload.manifest, payload.blob[:100])
    with pytest.raises(ExportError, match="truncated"):
        short.tensors()
    model = _model(2)
    model.decoder.deconv[1] = torch.nn.Tanh()
    with pytest.raises(ExportError, match="no Tanh layer"):
        export_decoder(model, "m")
    model = _model(2)
    with torch.no_grad():
        model.decoder.fc[0].bias[0] = float("nan")
    with pytest.raises(ExportError, match="NaN"):
        export_decoder(model, "m")
