"""A small real PDF, written on the fly, for the workflow to ingest (no file shipped, nothing
fetched). Plain PDF 1.4 with one text page in a standard font that every reader has."""

from __future__ import annotations

from pathlib import Path

SAMPLE_LINES = (
    "Ward 7 infection control protocol",
    "Hand hygiene before patient contact is mandatory for every member of staff.",
    "Use alcohol rub for at least twenty seconds, or soap and water when hands are soiled.",
    "Gloves do not replace hand hygiene. Change gloves between patients.",
    "The discharge checklist has five items: medication, follow-up, transport, "
    "education, contacts.",
)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_sample_pdf(path: Path, lines: tuple[str, ...] = SAMPLE_LINES) -> Path:
    text_ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
    for line in lines:
        text_ops.append(f"({_escape(line)}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path
