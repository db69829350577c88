"""Loss values worked out by hand (L = log(1 + e) recurs: the log-sum-exp of logits [1, 0])."""

import math

import pytest
import torch

from training.losses import LearnableTemperature, SPENetLoss, symmetric_infonce

L = math.log(1 + math.e)
EYE = torch.eye(2)


def test_infonce_identity_pairs_with_label_smoothing():
    # Each row: -(0.95·log p_true + 0.05·log p_other) with logits [1, 0] = L - 0.95.
    loss = symmetric_infonce(EYE, EYE, torch.tensor(1.0), label_smoothing=0.1)
    assert loss.item() == pytest.approx(L - 0.95, abs=1e-6)


def test_infonce_is_symmetric_average_of_both_directions():
    drone = EYE
    satellite = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # drone→satellite logits [[1,1],[0,0]]: both rows log 2.
    # satellite→drone logits [[1,0],[1,0]]: rows L - 0.95 and L - 0.05.
    expected = 0.5 * (math.log(2) + (L - 0.5))
    loss = symmetric_infonce(drone, satellite, torch.tensor(1.0), label_smoothing=0.1)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_temperature_scales_logits():
    # τ = 0.5 doubles the logits: row loss = log(1 + e²) - 0.95·2.
    loss = symmetric_infonce(EYE, EYE, torch.tensor(0.5), label_smoothing=0.1)
    assert loss.item() == pytest.approx(math.log(1 + math.e**2) - 1.9, abs=1e-6)


def test_without_label_smoothing():
    loss = symmetric_infonce(EYE, EYE, torch.tensor(1.0), label_smoothing=0.0)
    assert loss.item() == pytest.approx(L - 1.0, abs=1e-6)


def test_temperature_is_learnable_and_clamped():
    temp = LearnableTemperature(0.07, 0.01, 1.0)
    assert temp().item() == pytest.approx(0.07)
    loss = symmetric_infonce(EYE, EYE, temp())
    loss.backward()
    assert temp.log_temperature.grad is not None and temp.log_temperature.grad.item() != 0
    with torch.no_grad():
        temp.log_temperature.fill_(math.log(1e-4))
    assert temp().item() == pytest.approx(0.01)
    temp.clamp_()
    assert temp.log_temperature.item() == pytest.approx(math.log(0.01))


def test_total_adds_weighted_srs():
    crit = SPENetLoss(temperature=1.0, temperature_min=0.5, temperature_max=2.0, label_smoothing=0.1, srs_weight=0.1)
    satellite_resampled = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    out = crit(EYE, EYE, satellite_resampled)
    assert out.infonce.item() == pytest.approx(L - 0.95, abs=1e-6)
    assert out.srs.item() == pytest.approx(0.5 * (math.log(2) + (L - 0.5)), abs=1e-6)
    assert out.total.item() == pytest.approx(out.infonce.item() + 0.1 * out.srs.item(), abs=1e-6)


def test_srs_off_when_weight_zero():
    crit = SPENetLoss(temperature=1.0, srs_weight=0.0)
    out = crit(EYE, EYE, torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    assert out.srs.item() == 0.0 and out.total.item() == pytest.approx(L - 0.95, abs=1e-6)
