"""Images (PNG, JPEG, TIFF, multi-page TIFF): every frame a scanned page, read by OCR during
ingestion (rag/ocr.py); here only counted, so a damaged image fails alone and early."""

from __future__ import annotations

from pathlib import Path

from rag.documents import LoadedDocument, Page, UnreadableDocument
from rag.loaders.reading import read_file_bytes, sha256_of


class ImageLoader:
    formats: tuple[str, ...] = ("png", "jpeg", "tiff")

    def load(self, path: Path) -> LoadedDocument:
        return self.parse(path, read_file_bytes(path))

    def parse(self, path: Path, data: bytes, fmt: str = "png") -> LoadedDocument:
        from rag.ocr import image_frame_count

        try:
            frames = image_frame_count(data)
        except Exception:
            raise UnreadableDocument(path, "damaged or incomplete image") from None
        if frames < 1:
            raise UnreadableDocument(path, "the image has no pages")
        return LoadedDocument(path=path, title=path.stem, pages=[
            Page(n, "") for n in range(1, frames + 1)], format="image", sha256=sha256_of(data),
            scanned=tuple(range(1, frames + 1)))
