"""Retrieval metrics on a query × gallery similarity matrix.

All values are percentages. Recall@K: share of queries with a true match among the first K
gallery items. Recall@top1%: the same with K = max(1, round(1% of the gallery)). AP: mean
over queries of the non-interpolated average precision, i.e. the mean of precision@rank
taken at the rank of every true match.
"""

from typing import Dict, Sequence

import torch

DEFAULT_KS = (1, 5, 10)


def top_percent_k(gallery_size: int, percent: float = 1.0) -> int:
    return max(1, int(round(gallery_size * percent / 100.0)))


def retrieval_metrics(
    scores: torch.Tensor,
    query_labels: torch.Tensor,
    gallery_labels: torch.Tensor,
    ks: Sequence[int] = DEFAULT_KS,
    chunk: int = 256,
) -> Dict[str, float]:
    """Metrics for ``scores`` [Q, G] (higher = more similar), labels as integer tensors.

    Ties are broken by gallery order (stable sort), so results are reproducible. Queries
    with no true match in the gallery are counted and left out of every average.
    """
    num_queries, num_gallery = scores.shape
    k_top1 = top_percent_k(num_gallery)
    all_ks = sorted(set(ks) | {k_top1})
    hits = {k: 0.0 for k in all_ks}
    ap_sum, counted = 0.0, 0
    ranks = torch.arange(1, num_gallery + 1, dtype=torch.float64)
    for start in range(0, num_queries, chunk):
        block = scores[start : start + chunk].double()
        order = torch.sort(block, dim=1, descending=True, stable=True).indices
        matches = gallery_labels[order] == query_labels[start : start + chunk, None]
        has_match = matches.any(dim=1)
        matches = matches[has_match]
        if matches.numel() == 0:
            continue
        counted += matches.shape[0]
        first = matches.double().argmax(dim=1)  # 0-based rank of the first true match
        for k in all_ks:
            hits[k] += float((first < k).sum())
        precision = matches.double().cumsum(dim=1) / ranks
        ap_sum += float(((precision * matches).sum(dim=1) / matches.sum(dim=1)).sum())
    denom = max(counted, 1)
    result = {f"recall@{k}": 100.0 * hits[k] / denom for k in ks}
    result["recall@top1%"] = 100.0 * hits[k_top1] / denom
    result["top1%_k"] = k_top1
    result["ap"] = 100.0 * ap_sum / denom
    result["num_queries"] = counted
    result["num_gallery"] = num_gallery
    result["queries_without_match"] = num_queries - counted
    return result
