"""Batch sampler that puts each location at most once in a batch.

InfoNCE treats every other row of a batch as a negative; two pairs of the same location in
one batch would make a true match a negative.
"""

import random
from collections import defaultdict, deque
from typing import Dict, Iterator, List, Optional, Sequence

from torch.utils.data import Sampler


class UniqueLocationBatchSampler(Sampler):
    """Seeded batches of pair indices with pairwise distinct locations.

    Each epoch visits the pairs of every location in rounds (one pair per location per
    round, locations shuffled within a round), so the locations with many views are spread
    over the epoch. A pair whose location is already in the current batch waits for the next
    one. ``pairs_per_location`` caps how many pairs of each location an epoch uses.
    """

    def __init__(
        self,
        locations: Sequence[int],
        batch_size: int,
        seed: int = 0,
        drop_last: bool = True,
        pairs_per_location: Optional[int] = None,
    ):
        self.by_location: Dict[int, List[int]] = defaultdict(list)
        for index, location in enumerate(locations):
            self.by_location[location].append(index)
        if batch_size > len(self.by_location):
            raise ValueError(f"batch size {batch_size} exceeds the {len(self.by_location)} distinct locations")
        self.batch_size = batch_size
        self.seed = seed
        self.drop_last = drop_last
        self.pairs_per_location = pairs_per_location
        self.epoch = 0
        self._cache = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> List[List[int]]:
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        queues = {}
        for location in sorted(self.by_location):
            indices = list(self.by_location[location])
            rng.shuffle(indices)
            queues[location] = deque(indices[: self.pairs_per_location])
        sequence: List[tuple] = []
        while queues:
            round_locations = list(queues)
            rng.shuffle(round_locations)
            for location in round_locations:
                sequence.append((location, queues[location].popleft()))
                if not queues[location]:
                    del queues[location]
        batches, batch, in_batch, waiting = [], [], set(), deque()
        for item in sequence:
            waiting.append(item)
            # Admit every waiting pair whose location is not in the batch yet, oldest first.
            for _ in range(len(waiting)):
                location, index = waiting.popleft()
                if location in in_batch:
                    waiting.append((location, index))
                    continue
                batch.append(index)
                in_batch.add(location)
                if len(batch) == self.batch_size:
                    batches.append(batch)
                    batch, in_batch = [], set()
        # Leftovers repeat a location already pending: they go into further batches.
        while waiting:
            location, index = waiting.popleft()
            if location in in_batch:
                batches.append(batch)
                batch, in_batch = [], set()
            batch.append(index)
            in_batch.add(location)
            if len(batch) == self.batch_size:
                batches.append(batch)
                batch, in_batch = [], set()
        if batch and not self.drop_last:
            batches.append(batch)
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        self._cache = (self.epoch, batches)
        return batches

    def __iter__(self) -> Iterator[List[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())

