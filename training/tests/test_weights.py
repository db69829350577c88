"""Official DINOv2 key formats, written out by hand here so the test does not trust the model's names."""

import math

import pytest
import torch

from training.errors import CheckpointKeysError
from training.layers import resample_pos_embed
from training.models import VisionTransformer, get_backbone_spec, load_backbone_weights

BLOCK_KEYS = {
    "norm1.weight": lambda c: (c,), "norm1.bias": lambda c: (c,),
    "attn.qkv.weight": lambda c: (3 * c, c), "attn.qkv.bias": lambda c: (3 * c,),
    "attn.proj.weight": lambda c: (c, c), "attn.proj.bias": lambda c: (c,),
    "ls1.gamma": lambda c: (c,),
    "norm2.weight": lambda c: (c,), "norm2.bias": lambda c: (c,),
    "mlp.fc1.weight": lambda c: (4 * c, c), "mlp.fc1.bias": lambda c: (4 * c,),
    "mlp.fc2.weight": lambda c: (c, 4 * c), "mlp.fc2.bias": lambda c: (c,),
    "ls2.gamma": lambda c: (c,),
}


def official_state_dict(backbone: str, fmt: str, grid: int = 37, chunks: int = 0):
    """Random weights in Meta's ``dinov2_vit*14_pretrain.pth`` or timm's ``vit_*_patch14_dinov2`` layout."""
    spec = get_backbone_spec(backbone)
    c, g = spec.embed_dim, torch.Generator().manual_seed(0)
    shapes = {
        "cls_token": (1, 1, c),
        "pos_embed": (1, 1 + grid * grid, c),
        "patch_embed.proj.weight": (c, 3, 14, 14),
        "patch_embed.proj.bias": (c,),
        "norm.weight": (c,),
        "norm.bias": (c,),
    }
    if fmt == "meta":
        shapes["mask_token"] = (1, c)
    per_chunk = math.ceil(spec.depth / chunks) if chunks else None
    for i in range(spec.depth):
        prefix = f"blocks.{i // per_chunk}.{i}." if chunks else f"blocks.{i}."
        shapes.update({prefix + k: shape(c) for k, shape in BLOCK_KEYS.items()})
    return {k: torch.randn(shape, generator=g) for k, shape in shapes.items()}


def _backbone(name: str, size: int) -> VisionTransformer:
    return VisionTransformer.from_spec(get_backbone_spec(name), (size, size))


@pytest.mark.parametrize("fmt", ["meta", "timm"])
@pytest.mark.parametrize("backbone", ["vit_tiny14", "vit_small14"])
def test_loads_official_format_with_pos_embed_resampling(tmp_path, fmt, backbone):
    state = official_state_dict(backbone, fmt)
    path = tmp_path / f"{fmt}.pth"
    torch.save(state, path)
    model = _backbone(backbone, 224)
    assert load_backbone_weights(model, str(path)) == fmt
    loaded = model.state_dict()
    assert loaded["pos_embed"].shape == (1, 1 + 16 * 16, state["pos_embed"].shape[-1])
    assert torch.equal(loaded["pos_embed"][:, :1], state["pos_embed"][:, :1])  # class token untouched
    assert torch.allclose(loaded["pos_embed"], resample_pos_embed(state["pos_embed"], (16, 16), (37, 37)))
    for key in ("blocks.1.attn.qkv.weight", "blocks.1.ls2.gamma", "patch_embed.proj.weight", "norm.bias", "cls_token"):
        assert torch.equal(loaded[key], state[key])


def test_loads_meta_training_checkpoint_with_block_chunks(tmp_path):
    state = official_state_dict("vit_tiny14", "meta", grid=4, chunks=2)
    path = tmp_path / "chunked.pth"
    torch.save({"model": state}, path)
    model = _backbone("vit_tiny14", 56)
    load_backbone_weights(model, str(path))
    assert torch.equal(model.state_dict()["blocks.1.mlp.fc1.weight"], state["blocks.1.1.mlp.fc1.weight"])
    assert torch.equal(model.state_dict()["pos_embed"], state["pos_embed"])  # same grid: no resampling


def test_mismatch_lists_missing_and_unexpected_keys(tmp_path):
    state = official_state_dict("vit_tiny14", "timm")
    del state["blocks.0.ls1.gamma"]
    state["reg_token"] = torch.zeros(1, 4, 64)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointKeysError) as info:
        load_backbone_weights(_backbone("vit_tiny14", 56), str(path))
    message = str(info.value)
    assert "GEOLOC_ERR_CHECKPOINT_KEYS" in message and str(path) in message
    assert "missing in checkpoint (1):\n    blocks.0.ls1.gamma" in message
    assert "unexpected in checkpoint (1):\n    reg_token" in message
    assert "register-token" in message


def test_wrong_architecture_reports_shape_mismatch(tmp_path):
    path = tmp_path / "small.pth"
    torch.save(official_state_dict("vit_small14", "meta"), path)
    with pytest.raises(CheckpointKeysError, match=r"shape mismatch .*\n    .*\(384,\) vs \(64,\)"):
        load_backbone_weights(_backbone("vit_tiny14", 56), str(path))


def test_resampling_keeps_a_constant_field_constant():
    pos = torch.cat([torch.randn(1, 1, 8), torch.full((1, 37 * 37, 8), 0.5)], dim=1)
    out = resample_pos_embed(pos, (16, 20), (37, 37))
    assert out.shape == (1, 1 + 16 * 20, 8)
    assert torch.allclose(out[:, 1:], torch.full_like(out[:, 1:], 0.5), atol=1e-5)
    assert resample_pos_embed(pos, (37, 37), (37, 37)) is pos
