"""Run every benchmark, gather one JSON result, write it and its chart to a folder."""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.profiles import FULL, QUICK, SECTIONS, Profile
from bench.report import summary_lines
from desktop.app.settings import Settings

RESULT_FILE = "bench.json"
CHART_FILE = "bench.png"

__all__ = ["profile", "run_benchmarks", "summary_lines", "write_results"]


def profile(quick: bool) -> Profile:
    return QUICK if quick else FULL


def bench_settings(settings: Settings) -> Settings:
    """The configured model when it is installed, else the packaged default GGUF."""
    from models.provisioning import packaged_default_model

    if settings.model_path.is_file():
        return settings
    return settings.replace(model_path=packaged_default_model())


def _environment(settings: Settings) -> dict[str, Any]:
    import llama_cpp

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "model": settings.model_path.name,
    }


def _chosen_variant(settings: Settings) -> str | None:
    """The CPU variant Enclave itself would load here: the self-test's choice."""
    from desktop.app.wiring import check_engine_once

    return check_engine_once(settings).cpu_variant


def run_benchmarks(settings: Settings, profile: Profile,
                   progress: Callable[[str], None] = lambda _m: None,
                   only: Sequence[str] = ()) -> dict[str, Any]:
    """Every section of ``profile`` (or the ``only`` ones), each figure beside its raw engine's.
    """
    from bench.api import benchmark_api
    from bench.cpu_variants import benchmark_cpu_variants
    from bench.generation import benchmark_generation
    from bench.index_scale import benchmark_index_scale
    from bench.ingestion import benchmark_ingestion
    from bench.retrieval_quality import compare_passage_vectors, named_sets
    from bench.search import benchmark_search
    from bench.server_chat import benchmark_model_server
    from bench.startup import measure_memory, measure_startup
    from desktop.app.wiring import bundled_embedder

    settings = bench_settings(settings)
    result: dict[str, Any] = {"profile": profile.name, "environment": _environment(settings)}
    sections: dict[str, Callable[[], dict[str, Any]]] = {
        "generation": lambda: benchmark_generation(
            settings, rounds=profile.generation_rounds, max_tokens=profile.generation_tokens,
            interleaved_rounds=profile.interleaved_rounds,
            passage_chars=profile.rag_passage_chars, progress=progress),
        "ingestion": lambda: benchmark_ingestion(
            files=profile.ingest_files, pages_per_file=profile.ingest_pages_per_file,
            rounds=profile.ingest_rounds, progress=progress,
            embedder=bundled_embedder(settings)),
        "retrieval": lambda: compare_passage_vectors(named_sets(profile.retrieval_sets),
                                                     progress, settings.embedding_backend),
        "search": lambda: benchmark_search(sizes=profile.search_sizes,
                                           repeats=profile.search_repeats, progress=progress),
        "cpu_variants": lambda: benchmark_cpu_variants(
            settings.model_path, _chosen_variant(settings), tokens=profile.variant_tokens,
            repeats=profile.variant_repeats, which=profile.variants, threads=settings.threads,
            progress=progress),
        "api": lambda: benchmark_api(settings, rounds=profile.api_rounds,
                                     max_tokens=profile.api_tokens, progress=progress),
        "model_server": lambda: benchmark_model_server(
            settings.model_path, rounds=profile.server_rounds, max_tokens=profile.server_tokens,
            clients=profile.server_clients, threads=settings.threads, progress=progress),
        "index_servers": lambda: benchmark_index_scale(
            sizes=profile.index_sizes, repeats=profile.index_repeats,
            clients=profile.index_clients, files=profile.index_files, progress=progress),
        "startup": lambda: measure_startup(settings.model_path, profile.startup_runs),
        "memory": lambda: measure_memory(settings.model_path),
    }
    for name in SECTIONS:
        if only and name not in only:
            continue
        measure = sections[name]
        progress(f"{name}...")
        started = time.perf_counter()
        try:
            result[name] = measure()
        except Exception as exc:  # one failed section still leaves the others' figures
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        result[name]["section_seconds"] = round(time.perf_counter() - started, 1)
    result["environment"]["load_average_at_end"] = list(os.getloadavg())
    return result


def write_results(result: dict[str, Any], out: Path) -> tuple[Path, Path]:
    from desktop.window.bench_chart import draw_chart

    out.mkdir(parents=True, exist_ok=True)
    json_path = out / RESULT_FILE
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    chart_path = draw_chart(result, out / CHART_FILE, summary_lines(result))
    return json_path, chart_path


def failed_sections(result: dict[str, Any]) -> list[str]:
    return [name for name, value in result.items()
            if isinstance(value, dict) and "error" in value]
