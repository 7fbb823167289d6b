"""Two ingests into one collection at once, as when the window is open while a CLI or scheduled
ingest runs: does every catalogued passage keep its vectors?

``python -m bench.concurrent_ingest [--rounds N]``: each round makes a fresh data folder, starts
two real ``enclave ingest`` processes together on two folders of real licence texts
(/usr/share/common-licenses, the second folder's copies marked so that their contents differ),
waits for both, then checks the index as ``enclave doctor`` does (every passage and window has a
vector Chroma can read back) and runs a search over the whole collection. Before the library
lock (rag/library_lock.py) 3 of 3 such rounds lost vectors for good.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LICENCES = Path("/usr/share/common-licenses")
NAMES = ("Apache-2.0", "Artistic", "BSD", "GPL-1", "GPL-2", "GPL-3", "LGPL-2", "LGPL-2.1",
         "LGPL-3", "MPL-1.1", "MPL-2.0", "GFDL-1.3")
COLLECTION = "Shared matter"


@dataclass(frozen=True)
class Round:
    exit_codes: tuple[int, int]
    documents: int
    passages: int
    lost: int
    search_ok: bool
    seconds: float
    errors: str = ""


def write_folders(root: Path) -> tuple[Path, Path]:
    """Two folders of real licence texts; the second's copies differ by a first line."""
    first, second = root / "first", root / "second"
    for folder in (first, second):
        folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        text = (LICENCES / name).read_text(encoding="utf-8", errors="replace")
        (first / f"{name}.txt").write_text(text, encoding="utf-8")
        (second / f"{name}-copy.txt").write_text(f"Copy kept by the second office.\n{text}",
                                                 encoding="utf-8")
    return first, second


def one_round(root: Path, env: dict[str, str]) -> Round:
    from rag.embedder import MiniLMEmbedder
    from rag.library import Library

    home = root / "home"
    first, second = write_folders(root / "docs")
    env = dict(env, ENCLAVE_HOME=str(home))
    command = [sys.executable, "-m", "desktop", "ingest", "--collection", COLLECTION]
    started = time.perf_counter()
    processes = [subprocess.Popen([*command, str(folder)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for folder in (first, second)]
    outputs = [p.communicate(timeout=900) for p in processes]
    seconds = time.perf_counter() - started
    errors = "".join(out[-2000:] + err for (out, err), p in zip(outputs, processes, strict=True)
                     if "Traceback" in err or p.returncode)
    library = Library(home / "index", MiniLMEmbedder())
    try:
        checks = library.verify_index()
        documents = sum(i.documents for i in library.collections())
        search = subprocess.run([sys.executable, "-m", "desktop", "search", "--collection",
                                 COLLECTION, "--top-k", "50", "copies of the source code"],
                                env=env, capture_output=True, text=True, timeout=300)
    finally:
        library.close()
    return Round((processes[0].returncode, processes[1].returncode), documents,
                 sum(c.passages for c in checks), sum(c.lost for c in checks),
                 search.returncode == 0 and "Traceback" not in search.stderr, seconds,
                 errors + (search.stderr if search.returncode else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    lost_rounds = 0
    for n in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="enclave-concurrent-") as tmp:
            r = one_round(Path(tmp), dict(os.environ))
        lost_rounds += r.lost > 0 or not r.search_ok
        print(f"round {n}: exit {r.exit_codes}, {r.documents} documents, {r.passages} "
              f"passages, {r.lost} without vectors, search {'ok' if r.search_ok else 'FAILED'}"
              f", {r.seconds:.1f} s" + (f"\n{r.errors}" if r.errors else ""), flush=True)
    print(f"rounds that lost vectors or failed a search: {lost_rounds} of {args.rounds}")
    return 1 if lost_rounds else 0


if __name__ == "__main__":
    sys.exit(main())
