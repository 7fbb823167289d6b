"""Small crafted files that once held an ingest for hours, and what each costs now.

``python -m bench.crafted_files [--only NAME] [--keep DIR]``: writes each crafted file into its
own folder beside one ordinary note, runs a real ``enclave ingest`` process on that folder with
a fresh data folder, and prints, per file, the wall time, the peak memory of the ingest process
and of the process that read the file (the largest resident set of any child), whether the
ordinary note beside it was still indexed, and the line Enclave printed for the crafted file.
The first row is the note alone: what starting an ingest costs, included in every other row.

The files (as a hostile tester made them, issue 21):

- ``shared-stream.pdf``: 300 pages whose content is one shared 70 MB stream (about 118 KB on
  disk): every page makes the PDF parser read 70 MB of drawing operators.
- ``many-streams.pdf``: 40 pages, each its own 70 MB content stream (about 9 MB on disk).
- ``bomb.docx``: a Word document whose ``word/document.xml`` unpacks to 450 MB (about 1 MB on
  disk), just under the 500 MB unpacked limit.
- ``huge.txt``: 200 MB of text (refused by size before it is read).
- ``slice.txt``: 5 MB of text with no paragraph breaks, under the size limit.
- ``deep.html``: 200,000 nested elements.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop.app.sample_pdf import pdf_file

MB = 1024 * 1024
_WORDS = ("tenancy", "deposit", "notice", "claimant", "hearing", "potassium", "dosage", "clinic",
          "patient", "consent", "agreement", "clause", "warranty", "liability", "referral",
          "discharge", "summary", "court", "order")


def shared_stream_pdf(path: Path, pages: int = 300, stream_mb: int = 70,
                      shared: bool = True) -> Path:
    """``pages`` pages that all draw one shared content stream of ``stream_mb`` MB (or, not
    ``shared``, each its own copy of it)."""
    line = b"BT /F1 1 Tf 10 10 Td (x) Tj ET\n"
    packer = zlib.compressobj(9)
    packed = bytearray()
    block = line * (MB // len(line))
    for _ in range(stream_mb):
        packed += packer.compress(block)
    packed += packer.flush()
    stream = (b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + bytes(packed)
              + b"\nendstream")
    streams = 1 if shared else pages
    first_page = 4 + streams
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *[stream] * streams,
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                b"<< /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (4 + (0 if shared else n))
                for n in range(pages)]
    path.write_bytes(pdf_file(objects))
    return path


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def docx_bomb(path: Path, unpacked_mb: int = 450) -> Path:
    """A Word document whose body unpacks to ``unpacked_mb`` MB of paragraphs."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
            b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    paragraph = b"<w:p><w:r><w:t>The deposit is held by the agent.</w:t></w:r></w:p>"
    block = paragraph * (MB // len(paragraph))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as body:
            body.write(head)
            for _ in range(unpacked_mb):
                body.write(block)
            body.write(b"</w:body></w:document>")
    return path


def big_text(path: Path, megabytes: int, paragraphs: bool = True, seed: int = 7) -> Path:
    """``megabytes`` MB of words; with ``paragraphs``, a blank line every 80 words or so."""
    rng = random.Random(seed)
    target = megabytes * MB
    with path.open("w", encoding="utf-8") as out:
        written = 0
        while written < target:
            words = " ".join(rng.choice(_WORDS) for _ in range(80))
            piece = words + (".\n\n" if paragraphs else ". ")
            out.write(piece)
            written += len(piece)
    return path


def deep_html(path: Path, depth: int = 200_000) -> Path:
    path.write_text("<html><head><title>Referral</title></head><body>" + "<div>" * depth
                    + "Please see Mrs Romero." + "</div>" * depth + "</body></html>",
                    encoding="utf-8")
    return path


CRAFTED: dict[str, Callable[[Path], Path]] = {
    "shared-stream.pdf": shared_stream_pdf,
    "many-streams.pdf": lambda p: shared_stream_pdf(p, pages=40, shared=False),
    "bomb.docx": docx_bomb,
    "huge.txt": lambda p: big_text(p, 200),
    "slice.txt": lambda p: big_text(p, 5, paragraphs=False),
    "deep.html": deep_html,
}
ORDINARY = "note.txt"
BASELINE = "(the note alone)"
ORDINARY_TEXT = "Tenancy note: the deposit of 1,200 pounds was returned on 3 March."


@dataclass(frozen=True)
class Outcome:
    name: str
    size_bytes: int
    seconds: float
    peak_mb: float  # the largest resident set of the ingest process or any process it started
    note_indexed: bool
    line: str  # what Enclave printed about the crafted file
    exit_code: int


def run_one(name: str, root: Path, env: dict[str, str]) -> Outcome:
    folder = root / ("baseline" if name == BASELINE else name.replace(".", "-"))
    folder.mkdir(parents=True)
    (folder / ORDINARY).write_text(ORDINARY_TEXT, encoding="utf-8")
    crafted = folder / ORDINARY if name == BASELINE else CRAFTED[name](folder / name)
    env = dict(env, ENCLAVE_HOME=str(root / f"home-{folder.name}"))
    command = [sys.executable, "-m", "desktop", "ingest", "--collection", "Crafted", str(folder)]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    # ru_maxrss of waited-for children: the largest of the ingest and whatever it waited for.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = (done.stdout + done.stderr).splitlines()
    line = next((entry.strip() for entry in lines if crafted.name in entry), "(not named)")
    note_indexed = any(ORDINARY in entry and "indexed" in entry for entry in lines)
    return Outcome(name, crafted.stat().st_size, seconds, peak_kb / 1024, note_indexed, line,
                   done.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CRAFTED), action="append")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args(argv)
    # First the ordinary note alone: the cost of starting an ingest, loading the embedder and
    # indexing one note, which every row below includes.
    names = [BASELINE, *(args.only or CRAFTED)]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory(prefix="enclave-crafted-") as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        print(f"{'file':<18} {'on disk':>9} {'seconds':>8} {'peak MB':>8} {'note':>8}  line")
        for name in names:
            # Each file in its own child, so ru_maxrss is that file's alone.
            outcome = _isolated(name, root, env)
            print(f"{outcome.name:<18} {outcome.size_bytes / MB:>7.2f}MB {outcome.seconds:>8.1f} "
                  f"{outcome.peak_mb:>8.0f} {'indexed' if outcome.note_indexed else 'MISSED':>8}"
                  f"  {outcome.line}", flush=True)
    return 0


def _isolated(name: str, root: Path, env: dict[str, str]) -> Outcome:
    """run_one in a fresh Python, so that the peak memory it reports is this file's."""
    code = ("import json,sys,dataclasses;from pathlib import Path;from bench.crafted_files "
            "import run_one;import os;o=run_one(sys.argv[1],Path(sys.argv[2]),dict(os.environ));"
            "print(json.dumps(dataclasses.asdict(o)))")
    done = subprocess.run([sys.executable, "-c", code, name, str(root)], env=env,
                          capture_output=True, text=True, check=True)
    import json

    return Outcome(**json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    sys.exit(main())
