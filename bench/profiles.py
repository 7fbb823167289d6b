"""How big each benchmark is: the full run, ``--quick`` for CI, and a tiny one for the tests."""

from __future__ import annotations

from dataclasses import dataclass

# The sections in the order they run (``enclave bench --only NAME``).
SECTIONS = ("generation", "ingestion", "retrieval", "search", "cpu_variants", "api",
            "model_server", "index_servers", "startup", "memory")


@dataclass(frozen=True)
class Profile:
    name: str
    generation_rounds: int
    generation_tokens: int
    interleaved_rounds: int
    rag_passage_chars: int
    ingest_files: int
    ingest_pages_per_file: int
    ingest_rounds: int
    search_sizes: tuple[int, ...]
    search_repeats: int
    startup_runs: int
    # Decode speed per llama.cpp CPU variant: tokens a run, runs a variant, and which variants
    # ("all" that this processor runs, or "key": the chosen one, haswell (AVX2) and x64).
    variant_tokens: int = 128
    variant_repeats: int = 3
    variants: str = "all"
    # The local API against enclave ask: alternating rounds, tokens an answer.
    api_rounds: int = 3
    api_tokens: int = 96
    # Retrieval quality with the configured embedding engine and passage vectors pooled from
    # their windows, against torch at fp32 with passages embedded whole as well (before issue
    # 18), on these question sets (bench.retrieval_quality; "all": all).
    retrieval_sets: tuple[str, ...] = ("all",)
    # The model on llama.cpp's server against the model in process (bench.server_chat):
    # alternating rounds, tokens an answer, and how many clients ask at once.
    server_rounds: int = 3
    server_tokens: int = 64
    server_clients: int = 4
    # The shared index on real PostgreSQL and Chroma servers (bench.index_scale): search at
    # these sizes beside embedded mode, and this many workstations ingesting at once, each
    # this many licence texts.
    index_sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    index_repeats: int = 3
    index_clients: int = 4
    index_files: int = 12


FULL = Profile("full", generation_rounds=4, generation_tokens=256,
               interleaved_rounds=3, rag_passage_chars=1000,
               ingest_files=12, ingest_pages_per_file=8, ingest_rounds=2,
               search_sizes=(1_000, 10_000, 100_000), search_repeats=5, startup_runs=5,
               variant_tokens=256, variant_repeats=3, variants="all",
               api_rounds=4, api_tokens=128, retrieval_sets=("all",),
               server_rounds=4, server_tokens=128, server_clients=4,
               index_sizes=(1_000, 10_000, 100_000), index_repeats=3, index_clients=4,
               index_files=12)
QUICK = Profile("quick", generation_rounds=2, generation_tokens=48,
                interleaved_rounds=1, rag_passage_chars=1000,
                ingest_files=3, ingest_pages_per_file=4, ingest_rounds=1,
                search_sizes=(1_000, 5_000), search_repeats=3, startup_runs=2,
                variant_tokens=96, variant_repeats=2, variants="key",
                api_rounds=2, api_tokens=48, retrieval_sets=("common-licenses",),
                server_rounds=2, server_tokens=48, server_clients=4,
                index_sizes=(1_000, 5_000), index_repeats=2, index_clients=4, index_files=2)
# For the test suite: every section runs end to end, on sizes too small to mean anything.
TINY = Profile("tiny", generation_rounds=1, generation_tokens=8,
               interleaved_rounds=1, rag_passage_chars=200,
               ingest_files=2, ingest_pages_per_file=2, ingest_rounds=1,
               search_sizes=(200, 400), search_repeats=1, startup_runs=1,
               variant_tokens=8, variant_repeats=1, variants="key",
               api_rounds=1, api_tokens=8, retrieval_sets=("common-licenses-heldout",),
               server_rounds=1, server_tokens=8, server_clients=2,
               index_sizes=(200,), index_repeats=1, index_clients=2, index_files=1)
