"""Bad files: each is named with a reason a person understands, and never stops the others."""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.documents import LoadedDocument, UnreadableDocument
from rag.loaders import load_document
from tests.factories import (
    make_docx,
    make_encrypted_pdf,
    make_html,
    make_pdf,
    make_scanned_pdf,
    make_text,
)

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableDocument) as caught:
        load_document(path)
    assert caught.value.path == path.absolute()
    assert "\n" not in caught.value.reason and "Traceback" not in caught.value.reason
    return caught.value.reason


def test_image_only_pdf_is_all_scanned_pages(tmp_path: Path) -> None:
    # Read by OCR during ingestion, or refused there with what to install (tests/rag/test_ocr.py).
    loaded = load_document(make_scanned_pdf(tmp_path / "scan.pdf", pages=3))
    assert loaded.scanned == (1, 2, 3) and [p.text for p in loaded.pages] == ["", "", ""]


def test_truncated_pdf_is_named_damaged(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "full.pdf", ["Page one text.", "Page two text.", "Three."])
    data = pdf.read_bytes()
    for fraction in (0.2, 0.5, 0.9):
        cut = tmp_path / f"cut-{fraction}.pdf"
        cut.write_bytes(data[: int(len(data) * fraction)])
        assert "damaged or incomplete" in _reason(cut)


def test_pdf_with_a_password_is_named_password_protected(tmp_path: Path) -> None:
    locked = make_encrypted_pdf(tmp_path / "locked.pdf", ["Privileged advice."],
                                user_password="s3cret")
    assert _reason(locked) == "password-protected"


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path: Path) -> None:
    # Many PDFs are "encrypted" only to restrict printing; any viewer opens them.
    pdf = make_encrypted_pdf(tmp_path / "restricted.pdf", ["Open to read.", "Page two."],
                             user_password="")
    doc = load_document(pdf)
    assert [page.text for page in doc.pages] == ["Open to read.", "Page two."]


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.txt", "empty.html"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert _reason(path) == "empty file"


def test_whitespace_only_file_contains_no_text(tmp_path: Path) -> None:
    path = make_text(tmp_path / "blank.md", "\n\n   \t\n \n")
    assert _reason(path) == "contains no text"


def test_docx_that_is_not_a_zip_is_named(tmp_path: Path) -> None:
    path = tmp_path / "contract.docx"
    path.write_bytes(random.Random(7).randbytes(4000))
    assert _reason(path) == (
        "not a readable Word document (the file is damaged or is not really .docx)"
    )


def test_truncated_docx_is_named(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "full.docx", [("paragraph", "Hello " * 500)])
    cut = tmp_path / "cut.docx"
    cut.write_bytes(docx.read_bytes()[:3000])
    assert "not a readable Word document" in _reason(cut)


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/readme.txt", "not word")
    path = tmp_path / "bundle.docx"
    path.write_bytes(buffer.getvalue())
    assert "not a Word document" in _reason(path)


def test_pdf_that_is_really_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(random.Random(1).randbytes(4000))
    assert _reason(path) == "not a readable PDF (the file is damaged or is not really a PDF)"


def test_binary_junk_with_a_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(random.Random(2).randbytes(10_000))
    assert _reason(path) == "not text (it looks like binary data)"


def test_image_with_a_text_suffix_is_named_for_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(PNG_HEADER + bytes(200))
    assert _reason(path) == ("not a document Enclave can read: it is a PNG image (name it .png "
                             "to have it read as a scan)")


def test_old_word_file_suggests_saving_as_docx(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "save it as .docx" in _reason(path)


def test_five_megabyte_single_line_of_prose_is_read_and_chunked(tmp_path: Path) -> None:
    sentence = "The lessee shall maintain the premises in good repair. "
    path = make_text(tmp_path / "one-line.txt", sentence * (5_000_000 // len(sentence)))
    assert path.stat().st_size >= 4_900_000

    doc = load_document(path)
    passages = chunk_document(doc)

    assert all(0 < len(p.text) <= 1000 for p in passages)
    assert all(p.text.endswith("good repair.") for p in passages)
    assert sum(p.text.count("lessee") for p in passages) == 5_000_000 // len(sentence)


def test_five_megabyte_line_without_spaces_has_no_readable_text(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"QUJD" * 1_300_000)  # base64-looking, one line, no spaces
    assert _reason(path) == "contains no text"


def test_unsupported_suffix_and_things_that_are_not_files(tmp_path: Path) -> None:
    sheet = tmp_path / "budget.xlsx"
    sheet.write_bytes(b"PK\x03\x04" + bytes(100))
    assert "not a supported kind of document (.xlsx)" in _reason(sheet)
    photo = tmp_path / "photo.jpg"  # read as a scan, but this one is broken
    photo.write_bytes(b"\xff\xd8\xff" + bytes(100))
    assert _reason(photo) == "damaged or incomplete image"
    assert _reason(tmp_path / "missing.pdf") == "file not found"
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    assert _reason(folder) == "is a folder, not a file"


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert _reason(fifo) == "is not a regular file (a device, pipe or socket)"


def test_docx_cannot_make_the_loader_read_another_file(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOP-SECRET-PAYROLL")
    docx = make_docx(tmp_path / "in" / "evil.docx", [("paragraph", "PLACEHOLDER")])
    with zipfile.ZipFile(docx) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["word/document.xml"].decode("utf-8")
    declaration, rest = xml.split("?>", 1)
    parts["word/document.xml"] = (
        f'{declaration}?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        + rest.replace("PLACEHOLDER", "&xxe;")
    ).encode("utf-8")
    with zipfile.ZipFile(docx, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)

    try:
        doc = load_document(docx)
    except UnreadableDocument:
        return  # refusing the file is as good as not reading the secret
    assert "TOP-SECRET" not in "".join(page.text for page in doc.pages)


def test_corrupted_files_raise_only_unreadable_document(tmp_path: Path) -> None:
    originals = [
        make_pdf(tmp_path / "a.pdf", ["Alpha clause.", "Beta clause."], title="T"),
        make_docx(tmp_path / "b.docx", [("heading1", "H"), ("paragraph", "Body text.")]),
        make_html(tmp_path / "c.html", "C", "<h1>C</h1><p>Charlie &amp; co.</p>"),
    ]
    rng = random.Random(42)
    for original in originals:
        data = bytearray(original.read_bytes())
        for attempt in range(15):
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 40)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            path = tmp_path / f"damaged-{attempt}-{original.name}"
            path.write_bytes(bytes(damaged))
            try:
                doc = load_document(path)
            except UnreadableDocument as problem:
                assert problem.reason
            else:
                assert isinstance(doc, LoadedDocument)
                chunk_document(doc)


def test_good_files_beside_bad_ones_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    make_pdf(folder / "lease.pdf", ["The rent is EUR 900.", "Notice is two months."])
    make_docx(folder / "letter.docx", [("paragraph", "Dear tenant, the rent rises.")])
    make_scanned_pdf(folder / "scan.pdf")
    make_encrypted_pdf(folder / "locked.pdf", ["x"], user_password="pw")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.md").write_bytes(random.Random(3).randbytes(999))

    loaded: dict[str, LoadedDocument] = {}
    refused: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        try:
            loaded[path.name] = load_document(path)
        except UnreadableDocument as problem:
            refused[path.name] = problem.reason

    assert sorted(loaded) == ["lease.pdf", "letter.docx", "scan.pdf"]
    assert loaded["scan.pdf"].scanned and not loaded["lease.pdf"].scanned
    assert refused == {
        "empty.txt": "empty file",
        "junk.md": "not text (it looks like binary data)",
        "locked.pdf": "password-protected",
    }
    assert loaded["lease.pdf"].pages[1].text == "Notice is two months."


def test_pdf_encrypted_with_aes_is_not_called_damaged(tmp_path: Path) -> None:
    # pypdf can only write AES with the optional `cryptography` package, which Enclave does
    # not ship; so declare AES-256 encryption (V5/R6) in the trailer of a real PDF.
    data = make_pdf(tmp_path / "plain.pdf", ["Bank statement."]).read_bytes()
    encrypt = (
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <" + b"00" * 48 + b"> /U <"
        + b"00" * 48 + b"> /OE <" + b"00" * 32 + b"> /UE <" + b"00" * 32 + b"> /Perms <"
        + b"00" * 16 + b"> /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >>"
        b" /StmF /StdCF /StrF /StdCF >>"
    )
    file_id = b"<00112233445566778899aabbccddeeff>"
    path = tmp_path / "statement.pdf"
    path.write_bytes(data.replace(
        b"trailer\n<<", b"trailer\n<< /Encrypt " + encrypt + b" /ID [" + file_id + file_id + b"]"
    ))

    assert _reason(path) in (
        "encrypted in a way Enclave cannot open (AES); save an unprotected copy and add that",
        "password-protected",  # where `cryptography` is installed, the empty password fails
    )


def test_docx_that_would_unpack_to_too_much_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.loaders import docx as docx_loader

    monkeypatch.setattr(docx_loader, "_MAX_UNZIPPED_BYTES", 2**20)  # 500 MB in real life
    docx = make_docx(tmp_path / "bomb.docx", [("paragraph", "Small text.")])
    with zipfile.ZipFile(docx, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", bytes(2_000_000))  # compresses to ~2 KB
    assert docx.stat().st_size < 100_000

    assert _reason(docx) == "too large once unpacked (over 1 MB of content)"
