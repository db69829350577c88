import pytest
import torch

from training.errors import InputShapeError
from training.models import build_spenet, get_backbone_spec


def _model(backbone, img_size, **extra):
    torch.manual_seed(0)
    cfg = {"backbone": backbone, "img_size": img_size, "dim": None, "descriptor": "fused", "drop_path": 0.0, **extra}
    return build_spenet(cfg).eval()


@pytest.mark.parametrize("backbone", ["vit_small14", "vit_base14"])
@pytest.mark.parametrize("size", [224, 518])
def test_output_shapes_random_init(backbone, size):
    spec = get_backbone_spec(backbone)
    model = _model(backbone, size)
    with torch.no_grad():
        out = model(torch.randn(1, 3, size, size))
    grid = size // 14
    assert out.descriptor.shape == (1, spec.embed_dim)
    assert out.foreground.shape == (1, grid, grid)
    assert torch.allclose(out.descriptor.norm(dim=-1), torch.ones(1), atol=1e-5)
    assert bool(((out.foreground >= 0) & (out.foreground <= 1)).all())


def test_official_architectures():
    expected = {"vit_small14": (384, 12, 6), "vit_base14": (768, 12, 12), "vit_large14": (1024, 24, 16)}
    for name, (dim, depth, heads) in expected.items():
        spec = get_backbone_spec(name)
        assert (spec.embed_dim, spec.depth, spec.num_heads, spec.patch_size, spec.init_values) == (dim, depth, heads, 14, 1e-5)


def test_patch_grid_follows_input_shape():
    model = _model("vit_tiny14", 56, dim=32)
    with torch.no_grad():
        out = model(torch.randn(2, 3, 70, 98))
    assert out.descriptor.shape == (2, 32)
    assert out.foreground.shape == (2, 5, 7)


def test_input_not_multiple_of_patch_is_rejected():
    model = _model("vit_tiny14", 56)
    with pytest.raises(InputShapeError, match="multiple of the patch size 14"):
        model(torch.randn(1, 3, 60, 56))


def test_fused_starts_as_global_ablation_and_diverges_when_trained():
    fused, global_only = _model("vit_tiny14", 56), _model("vit_tiny14", 56, descriptor="global")
    # The ablation has no fusion head; everything else is shared.
    global_only.load_state_dict({k: v for k, v in fused.state_dict().items() if ".fuse." not in k})
    x = torch.randn(3, 3, 56, 56)
    with torch.no_grad():
        assert torch.allclose(fused(x).descriptor, global_only(x).descriptor, atol=1e-6)
        fused.lrmm.fam.fuse.proj.weight.normal_(std=0.5)
        fused.lrmm.rdm.score.fc2.weight.normal_(std=0.5)
        assert not torch.allclose(fused(x).descriptor, global_only(x).descriptor, atol=1e-3)


def test_foreground_weights_pool_patches():
    model = _model("vit_tiny14", 56)
    rdm = model.lrmm.rdm
    tokens = torch.randn(2, 16, 64)
    with torch.no_grad():
        rdm.score.fc2.weight.normal_(std=1.0)
        out = rdm(tokens)
    p = out.foreground_prob
    fg = (p[..., None] * tokens).sum(1) / p.sum(1, keepdim=True)
    bg = ((1 - p)[..., None] * tokens).sum(1) / (1 - p).sum(1, keepdim=True)
    assert torch.allclose(out.foreground, fg, atol=1e-4)
    assert torch.allclose(out.background, bg, atol=1e-4)


def test_unknown_descriptor_mode_is_a_config_error():
    from training.errors import ConfigError

    with pytest.raises(ConfigError, match="model.descriptor"):
        _model("vit_tiny14", 56, descriptor="cls")


def test_region_discovery_learns_from_the_retrieval_loss():
    # Regression: a constant initial foreground map (p = 0.5) makes fg and bg identical and
    # keeps the RDM's gradient at exactly zero forever.
    from training.losses import symmetric_infonce

    model = _model("vit_tiny14", 56).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    drone, satellite = torch.randn(4, 3, 56, 56), torch.randn(4, 3, 56, 56)
    assert model(drone).foreground.std() > 1e-3
    for _ in range(2):  # the first step moves the zero-initialised fusion head off zero
        optimizer.zero_grad()
        symmetric_infonce(model(drone).descriptor, model(satellite).descriptor, torch.tensor(0.07)).backward()
        optimizer.step()
    assert model.lrmm.rdm.score.fc2.weight.grad.abs().sum() > 0
    assert model.lrmm.rdm.score.fc1.weight.grad.abs().sum() > 0
