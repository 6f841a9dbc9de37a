import pytest

from gnnas.search import QueryRecord, SearchResult


def make(accuracies, ranks, table_best=0.95):
    records, best = [], float("-inf")
    for k, accuracy in enumerate(accuracies, start=1):
        best = max(best, accuracy)
        records.append(QueryRecord(k, f"p{k}", f"h{k}", 0, accuracy, best))
    return SearchResult("random", 0, {}, {"budget": len(records)}, records, table_best, ranks, "budget")


def test_table1_columns():
    result = make([0.90, 0.93, 0.91, 0.93, 0.92], [50, 7, 30, 7, 12])
    assert result.queries_to_best == 2  # the first query of the best accuracy
    assert result.best_accuracy == 0.93 and result.rank == 7
    assert result.regret == pytest.approx(0.02)
    assert result.queries_to_rank(12) == 2 and result.queries_to_rank(6) is None
    assert result.queries_to_rank(50) == 1
    assert result.trajectory().tolist() == [0.90, 0.93, 0.93, 0.93, 0.93]
    summary = result.summary()
    assert (summary["queries_to_best"], summary["rank"], summary["best_hash"]) == (2, 7, "h2")


def test_json_round_trip(tmp_path):
    result = make([0.9, 0.8], [3, 9])
    result.save(tmp_path / "r.json")
    assert SearchResult.load(tmp_path / "r.json") == result


def test_empty_run_has_no_best():
    result = make([], [])
    assert result.to_dict()["summary"] is None
    with pytest.raises(ValueError):
        _ = result.best_accuracy
