"""Two real ``enclave ingest`` processes into one collection at once (the window open while a
CLI ingest runs): no vector is lost, and the whole collection stays searchable. Before the
library lock, every such round measured lost vectors (bench/concurrent_ingest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.concurrent_ingest import NAMES, one_round


@pytest.mark.e2e
def test_two_ingests_at_once_lose_no_vector(cli_env: dict[str, str], tmp_path: Path) -> None:
    for n in range(2):
        result = one_round(tmp_path / f"round-{n}", cli_env)
        assert result.exit_codes == (0, 0), result.errors
        assert result.documents == 2 * len(NAMES)
        assert result.passages > 0 and result.lost == 0, result
        assert result.search_ok, result.errors
