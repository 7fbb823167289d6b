"""The shared index at scale, beside embedded mode: search p50/p95 through the practice's servers
as the collection grows, and ingest throughput with several workstations at once.

    python -m bench.index_scale [--sizes 1000 10000 100000] [--clients 4] [--repeats 3]
    python -m bench.index_scale --servers-search-only [--sizes ...]   # the first part alone

Real servers, started here on loopback (bench/index_servers.py): PostgreSQL and Chroma's
server. Search is bench/search.py's measurement (the real embedder and ``Library.search``; the
collection filled through the index's own parts with generated passages and random unit
vectors), once on the servers and once on the library's own files. Ingest runs ``clients`` real
``enclave ingest`` processes at once, each its own workstation (its own data folder), each on
its own folder of real licence texts, into one shared collection; embedded mode runs the same
processes on one data folder (they take turns to write), and one process ingesting all the
folders. On one machine the clients share its cores for embedding, so the figures show what the
servers' write path costs and how writers interleave, not forty desks' throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.concurrent_ingest import LICENCES, NAMES
from bench.stats import rounded

COLLECTION = "Shared matter"


def write_folders(root: Path, clients: int, files: int = len(NAMES)) -> list[Path]:
    """One folder of ``files`` real licence texts per client; each client's copies differ by a
    line."""
    folders = []
    for n in range(clients):
        folder = root / f"desk{n}"
        folder.mkdir(parents=True, exist_ok=True)
        for name in NAMES[:files]:
            text = (LICENCES / name).read_text(encoding="utf-8", errors="replace")
            (folder / f"{name}-{n}.txt").write_text(f"Copy kept by desk {n}.\n{text}",
                                                    encoding="utf-8")
        folders.append(folder)
    return folders


def configure_desk(home: Path, servers: Any) -> None:
    """A workstation's data folder set for the shared index, as IT configures one."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "index-token").write_text(servers.vectors.token + "\n", encoding="utf-8")
    (home / "config.toml").write_text(
        'index_backend = "server"\n'
        f'index_vector_server_url = "{servers.vectors.url}"\n'
        f'index_vector_token_file = "{home / "index-token"}"\n'
        f'index_database_url = "{servers.database.url}"\n'
        f'index_database_password_file = "{servers.database.password_file}"\n',
        encoding="utf-8")


def _ingest_at_once(jobs: Sequence[tuple[Path, Sequence[Path]]]) -> dict[str, Any]:
    """``enclave ingest`` for each (data folder, folders) at once; wall time and passages."""
    started = time.perf_counter()
    processes = [subprocess.Popen(
        [sys.executable, "-m", "desktop", "ingest", "--collection", COLLECTION, "--json",
         *map(str, folders)], env=dict(os.environ, ENCLAVE_HOME=str(home)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for home, folders in jobs]
    outputs = [p.communicate(timeout=3600) for p in processes]
    seconds = time.perf_counter() - started
    passages = files = 0
    for (out, err), process in zip(outputs, processes, strict=True):
        if process.returncode != 0:
            raise RuntimeError(f"an ingest failed ({process.returncode}): {err[-1000:]}")
        indexed = [f for f in json.loads(out)["indexed"] if f["status"] == "indexed"]
        files += len(indexed)
        passages += sum(int(f["passages"] or 0) for f in indexed)
    return {"clients": len(jobs), "files": files, "passages": passages,
            "seconds": rounded(seconds, 1), "passages_per_s": rounded(passages / seconds, 1),
            "files_per_s": rounded(files / seconds, 2)}


@contextlib.contextmanager
def _practice(work: Path) -> Iterator[Any]:
    from bench.index_servers import PracticeIndex, chroma_server, postgres_server

    with postgres_server(work / "postgres") as postgres, chroma_server(work / "chroma") as chroma:
        yield PracticeIndex(postgres, chroma)


def servers_search(sizes: Sequence[int], repeats: int,
                   progress: Callable[[str], None]) -> dict[str, Any]:
    """Search p50/p95 through real servers as the collection grows (bench/search.py)."""
    from bench.search import benchmark_search
    from rag.index_storage import ServerStorage

    with tempfile.TemporaryDirectory(prefix="enclave-index-scale-") as tmp, \
            _practice(Path(tmp) / "servers") as practice:
        return benchmark_search(sizes=sizes, repeats=repeats, progress=progress,
                                storage=ServerStorage(practice.fresh()))


def benchmark_index_scale(*, sizes: Sequence[int], repeats: int, clients: int,
                          files: int = len(NAMES),
                          progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    from bench.search import benchmark_search
    from rag.index_storage import ServerStorage

    with tempfile.TemporaryDirectory(prefix="enclave-index-scale-") as tmp:
        work = Path(tmp)
        with _practice(work / "servers") as practice:
            progress("index scale: search through the servers")
            served = benchmark_search(sizes=sizes, repeats=repeats, progress=progress,
                                      storage=ServerStorage(practice.fresh()))
            progress("index scale: search on the library's own files")
            embedded = benchmark_search(sizes=sizes, repeats=repeats, progress=progress)
            folders = write_folders(work / "docs", clients, files)
            progress(f"index scale: {clients} workstations ingesting into the servers")
            servers = practice.fresh()
            homes = [work / f"server-desk{n}" for n in range(clients)]
            for home in homes:
                configure_desk(home, servers)
            ingest_servers = _ingest_at_once([(h, [f]) for h, f in zip(homes, folders,
                                                                       strict=True)])
        progress(f"index scale: {clients} processes ingesting into one embedded library")
        shared_home = work / "embedded-desk"
        ingest_embedded = _ingest_at_once([(shared_home, [f]) for f in folders])
        progress("index scale: one process ingesting every folder, embedded")
        ingest_one = _ingest_at_once([(work / "embedded-alone", folders)])

    def by_size(result: dict[str, Any]) -> list[dict[str, Any]]:
        keep = ("passages", "p50_ms", "p95_ms", "index_p50_ms", "index_p95_ms", "build_seconds")
        return [{k: s[k] for k in keep} for s in result["sizes"]]

    return {
        "method": __doc__.strip().splitlines()[0],
        "search": {"servers": by_size(served), "embedded": by_size(embedded)},
        "ingest": {"servers": ingest_servers, "embedded_same_folder": ingest_embedded,
                   "embedded_one_process": ingest_one},
    }


def describe(result: dict[str, Any]) -> list[str]:
    lines = []
    for served, alone in zip(result["search"]["servers"], result["search"]["embedded"],
                             strict=True):
        lines.append(f"search at {served['passages']:,} passages: p50 {served['p50_ms']} ms, "
                     f"p95 {served['p95_ms']} ms through the servers; embedded p50 "
                     f"{alone['p50_ms']} ms, p95 {alone['p95_ms']} ms (filled in "
                     f"{served['build_seconds']} s vs {alone['build_seconds']} s)")
    ingest = result["ingest"]
    for name, label in (("servers", "workstations into the servers"),
                        ("embedded_same_folder", "processes into one embedded library"),
                        ("embedded_one_process", "process, embedded")):
        i = ingest[name]
        lines.append(f"ingest, {i['clients']} {label}: {i['files']} files, {i['passages']} "
                     f"passages in {i['seconds']} s ({i['passages_per_s']} passages/s)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.index_scale",
                                     description=__doc__.strip().splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--files", type=int, default=len(NAMES),
                        help="licence texts each client ingests")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--servers-search-only", action="store_true",
                        help="only search through the servers (neither embedded nor ingest)")
    args = parser.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    if args.servers_search_only:
        served = servers_search(args.sizes, args.repeats,
                                lambda m: print(m, file=sys.stderr, flush=True))
        for s in served["sizes"]:
            print(f"search at {s['passages']:,} passages through the servers: p50 "
                  f"{s['p50_ms']} ms, p95 {s['p95_ms']} ms (filled in {s['build_seconds']} s)")
        if args.out is not None:
            args.out.write_text(json.dumps(served, indent=2) + "\n", encoding="utf-8")
        return 0
    result = benchmark_index_scale(sizes=args.sizes, repeats=args.repeats, clients=args.clients,
                                   files=args.files,
                                   progress=lambda m: print(m, file=sys.stderr, flush=True))
    for line in describe(result):
        print(line)
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
