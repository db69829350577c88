import random

import pytest

from training.data import UniqueLocationBatchSampler


def _locations(n_pairs=600, n_locations=40, seed=0):
    rng = random.Random(seed)
    return [rng.randrange(n_locations) for _ in range(n_pairs)]


@pytest.mark.parametrize("batch_size", [2, 8, 40])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_location_at_most_once_per_batch(batch_size, seed):
    locations = _locations(seed=seed)
    sampler = UniqueLocationBatchSampler(locations, batch_size, seed=seed, drop_last=False)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert batches and len(batches) == len(sampler)
        for batch in batches:
            assert len({locations[i] for i in batch}) == len(batch) <= batch_size
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(len(locations)))  # every pair exactly once


def test_seeded_and_epoch_dependent():
    locations = _locations()
    a = UniqueLocationBatchSampler(locations, 8, seed=3)
    b = UniqueLocationBatchSampler(locations, 8, seed=3)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert list(a) != list(b)
    assert list(UniqueLocationBatchSampler(locations, 8, seed=4)) != list(a)


def test_drop_last_gives_full_batches_and_cap_per_location():
    locations = _locations()
    sampler = UniqueLocationBatchSampler(locations, 8, seed=0, drop_last=True, pairs_per_location=2)
    batches = list(sampler)
    assert all(len(b) == 8 for b in batches)
    per_location = {}
    for i in (i for b in batches for i in b):
        per_location[locations[i]] = per_location.get(locations[i], 0) + 1
    assert max(per_location.values()) <= 2


def test_batch_larger_than_locations_is_refused():
    with pytest.raises(ValueError, match="exceeds the 3 distinct locations"):
        UniqueLocationBatchSampler([0, 1, 2, 0], 4)
