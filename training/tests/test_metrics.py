import pytest
import torch

from training.metrics import retrieval_metrics, top_percent_k


def test_hand_worked_rankings():
    # Query 0 (label 0): gallery ranked g0(0) g1(1) g2(0) g3(2) → first hit rank 1; AP = (1/1 + 2/3)/2.
    # Query 1 (label 1): ranked g3(2) g2(0) g0(0) g1(1) → first hit rank 4; AP = 1/4.
    scores = torch.tensor([[0.9, 0.8, 0.7, 0.1], [0.2, 0.1, 0.5, 0.9]])
    gallery = torch.tensor([0, 1, 0, 2])
    m = retrieval_metrics(scores, torch.tensor([0, 1]), gallery, ks=(1, 3, 5))
    assert m["recall@1"] == pytest.approx(50.0)
    assert m["recall@3"] == pytest.approx(50.0)
    assert m["recall@5"] == pytest.approx(100.0)
    assert m["recall@top1%"] == pytest.approx(50.0)  # K = 1 for a gallery of 4
    assert m["ap"] == pytest.approx(100 * ((1 + 2 / 3) / 2 + 1 / 4) / 2)
    assert (m["num_queries"], m["num_gallery"]) == (2, 4)


def test_recall_at_top_one_percent_uses_one_percent_of_gallery():
    # Gallery of 200: K = 2. The match sits at rank 2 for query 0 and rank 3 for query 1.
    gallery = torch.arange(200)
    scores = torch.linspace(1, 0, 200).repeat(2, 1)
    m = retrieval_metrics(scores, torch.tensor([1, 2]), gallery)
    assert m["top1%_k"] == 2
    assert m["recall@1"] == 0.0
    assert m["recall@top1%"] == pytest.approx(50.0)
    assert m["recall@5"] == pytest.approx(100.0)
    assert m["ap"] == pytest.approx(100 * (1 / 2 + 1 / 3) / 2)


def test_top_percent_k_of_official_galleries():
    assert [top_percent_k(n) for n in (4, 200, 951, 10_000, 51_355)] == [1, 2, 10, 100, 514]


def test_queries_without_match_are_counted_and_excluded():
    scores = torch.tensor([[0.9, 0.1], [0.3, 0.4]])
    m = retrieval_metrics(scores, torch.tensor([0, 7]), torch.tensor([0, 1]))
    assert m["queries_without_match"] == 1 and m["num_queries"] == 1
    assert m["recall@1"] == 100.0 and m["ap"] == 100.0


def test_ties_keep_gallery_order():
    scores = torch.ones(1, 3)
    m = retrieval_metrics(scores, torch.tensor([2]), torch.tensor([0, 1, 2]), ks=(1, 2, 3))
    assert (m["recall@1"], m["recall@2"], m["recall@3"]) == (0.0, 0.0, 100.0)


def test_chunking_does_not_change_results():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(50, 30, generator=g)
    q, gal = torch.randint(0, 10, (50,), generator=g), torch.randint(0, 10, (30,), generator=g)
    assert retrieval_metrics(scores, q, gal, chunk=7) == pytest.approx(retrieval_metrics(scores, q, gal, chunk=256))
