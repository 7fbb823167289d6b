"""The benchmark runs end to end on the real engines and reports every figure.

On tiny sizes, so the figures mean nothing here: this checks that each one is measured, numeric
and written (with a chart a person can open), never how fast anything is. Speed and memory are
read from `enclave bench` itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench import runner
from bench.profiles import TINY
from desktop.app.settings import load_settings
from desktop.cli.main import build_parser

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

FIGURES = {
    "generation": ["decode_ratio", "decode_ratio_alternating_runs", "end_to_end_ratio",
                   "context_size", "threads"],
    "generation.enclave": ["decode_tokens_per_second", "time_to_first_token_s",
                           "prompt_tokens_per_second", "total_seconds", "prompt_tokens"],
    "generation.raw": ["decode_tokens_per_second", "time_to_first_token_s",
                       "prompt_tokens_per_second", "total_seconds", "prompt_tokens"],
    "ingestion": ["documents", "pages", "passages", "enclave_pages_per_second",
                  "raw_pages_per_second", "ratio", "reingest_seconds", "reingest_share"],
    "startup": ["window_painted_s", "launch_to_exit_s"],
    "api": ["ttft_overhead_ms", "decode_ratio"],
    "api.api": ["time_to_first_token_s", "decode_tokens_per_second", "total_seconds"],
    "api.enclave_ask": ["time_to_first_token_s", "decode_tokens_per_second", "total_seconds"],
    "memory": ["baseline_mib", "model_loaded_mib", "model_and_library_mib"],
    "model_server": ["server_to_in_process_decode"],
    "model_server.in_process": ["tokens_per_second", "time_to_first_token", "seconds"],
    "model_server.server": ["tokens_per_second", "time_to_first_token", "seconds"],
    "model_server.concurrent": ["answers", "wait_p50_seconds", "wait_max_seconds",
                                "total_tokens_per_second"],
}
SEARCH_FIGURES = ["passages", "p50_ms", "p95_ms", "embedding_p50_ms", "index_p50_ms",
                  "index_p95_ms", "build_seconds"]


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _section(result: dict[str, Any], dotted: str) -> dict[str, Any]:
    value: Any = result
    for key in dotted.split("."):
        value = value[key]
    return dict(value)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    home = tmp_path_factory.mktemp("bench-home")
    settings = load_settings({"ENCLAVE_HOME": str(home)})
    result = runner.run_benchmarks(settings, TINY)
    json_path, chart_path = runner.write_results(result, tmp_path_factory.mktemp("bench-out"))
    return result, json_path, chart_path


def test_every_figure_is_measured_and_numeric(tiny_run: tuple[dict[str, Any], Path, Path]
                                              ) -> None:
    result, _, _ = tiny_run
    assert runner.failed_sections(result) == []
    for dotted, keys in FIGURES.items():
        section = _section(result, dotted)
        for key in keys:
            assert _is_number(section.get(key)), f"{dotted}.{key} = {section.get(key)!r}"
    assert result["startup"]["available"] is True
    sizes = result["search"]["sizes"]
    assert [s["passages"] for s in sizes] == list(TINY.search_sizes)
    for size in sizes:
        for key in SEARCH_FIGURES:
            assert _is_number(size[key]), f"search at {size['passages']}: {key}"
    by_threads = result["search"]["query_embedding_by_torch_threads"]
    assert by_threads and all(_is_number(v) for v in by_threads.values())
    shared = result["index_servers"]
    assert [s["passages"] for s in shared["search"]["servers"]] == list(TINY.index_sizes)
    for size in shared["search"]["servers"]:
        assert _is_number(size["p50_ms"]) and _is_number(size["p95_ms"])
    for side in ("servers", "embedded_same_folder", "embedded_one_process"):
        ingest = shared["ingest"][side]
        assert ingest["files"] == TINY.index_clients * TINY.index_files, side
        assert ingest["passages"] > 0 and _is_number(ingest["passages_per_s"])
    variants = result["cpu_variants"]
    if variants["available"]:
        chosen = variants["chosen"]
        assert chosen in variants["variants"], "the variant Enclave loads is measured"
        assert _is_number(variants["variants"][chosen]["decode_tokens_per_second"])
        assert _is_number(variants["chosen_vs_fastest"])


def test_both_sides_of_each_comparison_did_the_same_work(
        tiny_run: tuple[dict[str, Any], Path, Path]) -> None:
    result, _, _ = tiny_run
    generation = result["generation"]
    # Greedy sampling on the same GGUF: the same prompt and the same tokens on both sides.
    assert generation["same_tokens_both_sides"] is True
    assert generation["enclave"]["completion_tokens"] == [TINY.generation_tokens]
    assert generation["enclave"]["prompt_tokens"] == generation["raw"]["prompt_tokens"] > 100
    ingestion = result["ingestion"]
    assert ingestion["documents"] == TINY.ingest_files
    assert ingestion["pages"] == TINY.ingest_files * TINY.ingest_pages_per_file
    assert ingestion["passages"] >= ingestion["pages"]
    assert ingestion["passage_pooled_from_windows"] is True
    assert ingestion["texts_embedded_by_enclave"] < ingestion["texts_encoded_raw"], \
        "a passage with windows is not embedded whole as well"
    retrieval = result["retrieval"]
    assert set(retrieval["pooled"]) == set(retrieval["whole"]) == \
        set(TINY.retrieval_sets)
    for name in TINY.retrieval_sets:
        for side in ("pooled", "whole"):
            assert retrieval[side][name]["questions"] > 0, f"{name} scored ({side})"


def test_results_are_written_as_json_and_a_readable_chart(
        tiny_run: tuple[dict[str, Any], Path, Path]) -> None:
    from PySide6.QtGui import QImage

    result, json_path, chart_path = tiny_run
    assert json.loads(json_path.read_text(encoding="utf-8"))["generation"] == \
        json.loads(json.dumps(result["generation"]))
    assert chart_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(chart_path))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1500, 800)


def test_the_summary_names_every_section(tiny_run: tuple[dict[str, Any], Path, Path]) -> None:
    text = "\n".join(runner.summary_lines(tiny_run[0]))
    for words in ("decode ratio, token-interleaved", "decode, whole runs", "time to first token",
                  "prompt processing", "pages/s", "re-ingest", "passages:",
                  "Start-up: window painted", "Memory (RSS)", "llama.cpp CPU variants",
                  "Local API (streamed", "embedded whole as well",
                  "Shared index (PostgreSQL and Chroma's server"):
        assert words in text


def test_enclave_bench_command_takes_its_options() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--json", "--out", "somewhere"])
    assert (args.quick, args.json, args.out) == (True, True, Path("somewhere"))
    assert runner.profile(args.quick).search_sizes[-1] < runner.profile(False).search_sizes[-1]


def test_the_sections_the_command_offers_are_the_ones_that_run(
        tiny_run: tuple[dict[str, Any], Path, Path]) -> None:
    from desktop.cli.bench_cmd import SECTIONS

    result, _json, _chart = tiny_run
    assert SECTIONS == runner.SECTIONS
    assert [name for name in result if name in SECTIONS] == list(SECTIONS)


def test_only_the_sections_asked_for_run_and_their_summary_and_chart_are_written(
        tmp_path: Path) -> None:
    settings = load_settings({"ENCLAVE_HOME": str(tmp_path / "home")})
    result = runner.run_benchmarks(settings, TINY, only=("startup",))
    assert [name for name in result if name in runner.SECTIONS] == ["startup"]
    json_path, chart_path = runner.write_results(result, tmp_path / "out")
    assert json_path.is_file() and chart_path.stat().st_size > 0
    assert any(line.startswith("Start-up") for line in runner.summary_lines(result))
