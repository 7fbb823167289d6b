"""A small real PDF, written on the fly, for the workflow to ingest (no file shipped, nothing
fetched). Plain PDF 1.4 with one text page in a standard font that every reader has."""

from __future__ import annotations

from pathlib import Path

from desktop.app.sample_pdf import write_pdf

SAMPLE_LINES = (
    "Ward 7 infection control protocol",
    "Hand hygiene before patient contact is mandatory for every member of staff.",
    "Use alcohol rub for at least twenty seconds, or soap and water when hands are soiled.",
    "Gloves do not replace hand hygiene. Change gloves between patients.",
    "The discharge checklist has five items: medication, follow-up, transport, "
    "education, contacts.",
)


def write_sample_pdf(path: Path, lines: tuple[str, ...] = SAMPLE_LINES) -> Path:
    return write_pdf(path, ["\n".join(lines)], title=lines[0])


def write_sample_scan(path: Path, sample_pdf: Path) -> Path | None:
    """The sample page as a scanner would give it (a PNG image, no text), for the OCR step;
    None when this machine has no OCR engine to read it."""
    from rag.ocr import find_engine, pdf_page_image

    if find_engine() is None:
        return None
    path.write_bytes(pdf_page_image(sample_pdf.read_bytes(), 1, dpi=200))
    return path
