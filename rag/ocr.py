"""Reading scans: page images to text with the Tesseract engine, on this computer.

Tesseract is a local program (Debian's ``tesseract-ocr`` and one ``tesseract-ocr-LANG`` package
per language); its language data are local files, and nothing here opens a connection. A page
is rendered (PDF pages by pdfium, through pypdfium2) or decoded (PNG, JPEG, TIFF frames, by
Pillow) to a grey image, handed to ``tesseract`` on its standard input, and read back from its
standard output. Page segmentation mode 1 (automatic, with orientation and script detection)
turns a page scanned sideways or upside down the right way up before reading it.

``DPI`` is the rendering resolution that measured best (``python -m bench.ocr_quality``, 35
pages of real documents scanned at 200 dpi, 2026-12-01): 150 dpi 99.41% of characters right
(3.04 s a page), 200 dpi 99.74% (2.44 s), 300 dpi 99.63% (2.83 s).
"""

from __future__ import annotations

import io
import locale
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

DPI = 200
PAGE_TIMEOUT_S = 180
# Fewer letters than this over a picture and a PDF page counts as scanned: a page number or a
# stamp alone is not a text layer (rag/loaders/pdf.py).
MIN_LETTERS = 16
# The ISO 639-1 language of the system locale, as Tesseract names its language data.
_TESSERACT_CODES = {"en": "eng", "de": "deu", "fr": "fra", "it": "ita", "es": "spa",
                    "nl": "nld", "pt": "por", "pl": "pol", "sv": "swe", "da": "dan",
                    "no": "nor", "nb": "nor", "fi": "fin", "cs": "ces", "tr": "tur"}
_NOT_LANGUAGES = {"osd", "equ"}
INSTALL_HINT = ("install the Tesseract OCR engine to read scans (Debian/Ubuntu: "
                "apt install tesseract-ocr tesseract-ocr-eng)")


class OcrError(Exception):
    """A page the engine could not read; the message says why, for the person."""


def has_text_layer(text: str) -> bool:
    return sum(ch.isalpha() for ch in text) >= MIN_LETTERS


class PageReader(Protocol):
    """Text from one page image (PNG bytes)."""

    @property
    def languages(self) -> tuple[str, ...]: ...

    def read(self, image: bytes) -> str: ...


@dataclass(frozen=True)
class EngineInfo:
    path: str
    version: str
    languages: tuple[str, ...]  # installed language data, osd excluded
    orientation: bool = False  # the orientation-detection data (osd) is installed


def find_engine(binary: str | None = None) -> EngineInfo | None:
    """The Tesseract on this computer, or None."""
    found = shutil.which(binary or os.environ.get("ENCLAVE_TESSERACT", "tesseract"))
    if found is None:
        return None
    try:
        version = subprocess.run([found, "--version"], capture_output=True, text=True,
                                 timeout=30, check=False)
        listed = subprocess.run([found, "--list-langs"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (version.stdout or version.stderr).strip().splitlines()
    listed_names = {line.strip() for line in listed.stdout.splitlines()[1:] if line.strip()}
    languages = tuple(sorted(listed_names - _NOT_LANGUAGES))
    return EngineInfo(found, first[0] if first else "tesseract", languages,
                      orientation="osd" in listed_names)


def default_languages(installed: Sequence[str], environ: dict[str, str] | None = None
                      ) -> tuple[str, ...]:
    """The system locale's language, then English, among those installed."""
    env = os.environ if environ is None else environ
    name = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    if not name:
        name = (locale.getlocale()[0] or "") if environ is None else ""
    code = _TESSERACT_CODES.get(name.split("_")[0].split(".")[0].lower())
    wanted = [c for c in (code, "eng") if c]
    chosen = tuple(dict.fromkeys(c for c in wanted if c in installed))
    return chosen or tuple(installed[:1])


class TesseractReader:
    """PageReader by the ``tesseract`` program; ``languages`` as Tesseract names them."""

    def __init__(self, engine: EngineInfo, languages: Sequence[str]) -> None:
        missing = [lang for lang in languages if lang not in engine.languages]
        if missing:
            raise OcrError(f"Tesseract has no language data for {', '.join(missing)} "
                           f"(installed: {', '.join(engine.languages) or 'none'}); install "
                           f"tesseract-ocr-{missing[0]}")
        self.engine = engine
        self._languages = tuple(languages) or engine.languages[:1]

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def read(self, image: bytes) -> str:
        command = [self.engine.path, "stdin", "stdout", "-l", "+".join(self._languages),
                   "--psm", "1" if self.engine.orientation else "3", "--dpi", str(DPI)]
        try:
            done = subprocess.run(command, input=image, capture_output=True,
                                  timeout=PAGE_TIMEOUT_S, check=False,
                                  env=dict(os.environ, OMP_THREAD_LIMIT="1"))
        except subprocess.TimeoutExpired:
            raise OcrError(f"the OCR engine took more than {PAGE_TIMEOUT_S} s on this page")\
                from None
        except OSError as exc:
            raise OcrError(f"the OCR engine could not be started ({exc.strerror})") from None
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise OcrError(f"the OCR engine could not read this page "
                           f"({reason[-1] if reason else f'exit {done.returncode}'})")
        return _tidy(done.stdout.decode("utf-8", errors="replace"))


def _tidy(text: str) -> str:
    text = text.replace("\x0c", "")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -- page images -----------------------------------------------------------------------------

def pdf_page_image(data: bytes, page_number: int, dpi: int = DPI) -> bytes:
    """Page ``page_number`` (from 1) of a PDF, rendered grey, as PNG."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        page = document[page_number - 1]
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil()
        finally:
            page.close()
    finally:
        document.close()
    return _png(image)


def image_frames(data: bytes) -> Iterator[bytes]:
    """Each frame of an image file (one, or a multi-page TIFF's pages), grey, as PNG."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            yield _png(frame.convert("L"))


def image_frame_count(data: bytes) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return int(getattr(image, "n_frames", 1))


def _png(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")  # type: ignore[attr-defined]
    return out.getvalue()
