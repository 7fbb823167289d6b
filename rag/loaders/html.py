"""HTML with the standard library's parser: visible text, with its headings and blocks.

Scripts, styles, navigation (<nav>, role="navigation"), heading permalinks and other
non-content elements are dropped; h1-h6 become
"# " lines, paragraphs, list items and table rows become lines; entities are decoded by
the parser. The title is <title>, else the first <h1>, else the file's stem.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from rag.documents import LoadedDocument, Page, UnreadableDocument
from rag.loaders.reading import read_file_bytes, sha256_of
from rag.loaders.text import decoded_text
from rag.text_cleaning import clean_text

_SKIPPED = frozenset({"script", "style", "nav", "noscript", "template", "svg", "iframe",
                      "object", "button", "select"})
_BLOCKS = frozenset({"p", "div", "section", "article", "main", "header", "footer", "aside",
                     "blockquote", "li", "dt", "dd", "tr", "table", "ul", "ol", "dl", "pre",
                     "figure", "figcaption", "address", "hr", "caption", "details", "summary"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Page furniture marked by its attributes: navigation bars and sidebars (role="navigation"), and
# the "¶" permalinks documentation generators put after every heading (class="headerlink").
_FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "search"})
_FURNITURE_CLASSES = frozenset({"headerlink", "sphinxsidebar", "related"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
                   "source", "track", "wbr"})
_META_CHARSET = re.compile(
    rb"""(?:<meta[^>]+charset|<\?xml[^>]+encoding)\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I
)


def _is_furniture(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "role" and (value or "").lower() in _FURNITURE_ROLES:
            return True
        if name == "class" and _FURNITURE_CLASSES & set((value or "").lower().split()):
            return True
    return False


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.heading_level = 0
        self.in_pre = 0
        self.in_title = False
        self.title_parts: list[str] = []
        self.first_h1 = ""
        self.cells: list[str] | None = None  # inside a table row
        # Inside furniture found by its attributes: its tag and how deep in same-named tags.
        self.furniture: tuple[str, int] | None = None

    # The parser is lenient with broken markup by design; we only track what we need.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
            return
        if self.furniture is not None:
            if tag == self.furniture[0] and tag not in _VOID:
                self.furniture = (tag, self.furniture[1] + 1)
            return
        if tag not in _VOID and _is_furniture(attrs):
            self.furniture = (tag, 1)
            return
        if tag in _SKIPPED:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self._end_line()
        elif tag in _HEADINGS:
            self._end_block()
            self.heading_level = _HEADINGS[tag]
        elif tag == "tr":
            self._end_block()
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self._end_cell()
        elif tag in _BLOCKS:
            self._end_block()
            if tag == "pre":
                self.in_pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            return
        if self.furniture is not None:
            if tag == self.furniture[0]:
                depth = self.furniture[1] - 1
                self.furniture = (tag, depth) if depth else None
            return
        if tag in _SKIPPED:
            if tag not in _VOID:
                self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            text = self._take_current()
            if text:
                if self.heading_level == 1 and not self.first_h1:
                    self.first_h1 = text
                self.lines += ["", f"{'#' * self.heading_level} {text}", ""]
            self.heading_level = 0
        elif tag in ("td", "th") and self.cells is not None:
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag in _BLOCKS:
            self._end_block()
            if tag == "pre":
                self.in_pre = max(0, self.in_pre - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
        elif not self.skip_depth and self.furniture is None:
            if self.in_pre:
                for i, part in enumerate(data.split("\n")):
                    if i:
                        self._end_line()
                    self.current.append(part)
            else:
                self.current.append(data)

    def close(self) -> None:
        super().close()
        self._end_row()
        self._end_block()

    def _take_current(self) -> str:
        text = " ".join("".join(self.current).split())
        self.current = []
        return text

    def _end_line(self) -> None:
        text = self._take_current()
        if text:
            self.lines.append(text)

    def _end_cell(self) -> None:
        text = self._take_current()
        if text and self.cells is not None:
            self.cells.append(text)

    def _end_row(self) -> None:
        if self.cells is None:
            return
        self._end_cell()
        if self.cells:
            self.lines.append(f"| {' | '.join(self.cells)} |")
        self.cells = None

    def _end_block(self) -> None:
        if self.cells is not None:
            self._end_cell()
            return
        self._end_line()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")


class HtmlLoader:
    formats: tuple[str, ...] = ("html",)

    def load(self, path: Path) -> LoadedDocument:
        return self.parse(path, read_file_bytes(path))

    def parse(self, path: Path, data: bytes, fmt: str = "html") -> LoadedDocument:
        declared = _declared_charset(data)
        markup = decoded_text(path, data, declared)
        extractor = _TextExtractor()
        try:
            extractor.feed(markup)
            extractor.close()
        except Exception:
            raise UnreadableDocument(path, "HTML that could not be parsed") from None
        text = clean_text("\n".join(extractor.lines))
        if not text.strip():
            raise UnreadableDocument(path, "contains no text")
        title = " ".join("".join(extractor.title_parts).split())
        return LoadedDocument(
            path=path,
            title=title or extractor.first_h1 or path.stem,
            pages=[Page(None, text)],
            format="html",
            sha256=sha256_of(data),
        )


def _declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None
