"""The conversation as a column of cards: questions, answers with their sources, notices."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.answer_wording import elapsed_words, stats_tooltip, stats_words
from desktop.app.conversations import Message
from desktop.app.export import answer_with_sources, citation_label
from desktop.app.source_highlight import focus_for

RENDER_INTERVAL_MS = 40  # re-render streamed Markdown at most 25 times a second
TICK_MS = 1000  # a waiting status ("Searching your documents… 4 s") counts up each second
# Sources shown under an answer before "Show all N sources": five cards pushed a short answer
# out of a 700-pixel-high window.
SOURCES_SHOWN = 3


# Behind a sentence the sources do not back: readable on light and dark themes.
UNSUPPORTED_BG = "rgba(220, 60, 40, 0.28)"


def markdown_label(text: str = "") -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.MarkdownText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    label.setOpenExternalLinks(False)  # a model's link is never followed: Enclave stays offline
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    label.setText(text)
    return label


def _card(object_name: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName(object_name)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(16, 12, 16, 12)
    layout.setSpacing(8)
    return frame, layout


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("muted")
    label.setWordWrap(True)
    return label


class QuestionCard(QFrame):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.setObjectName("userMessage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        self.body = QLabel(text)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.body)


class CitationButton(QFrame):
    """One source under an answer: number, document and page, the start of the passage.

    A frame with a wrapping label rather than a QPushButton, whose text never wraps and would
    make the answer wider than the window. Click, Enter or Space opens it."""

    clicked = Signal()

    def __init__(self, number: int, citation: dict[str, Any]) -> None:
        super().__init__()
        self.setObjectName("citation")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(f"{citation.get('source', '')}\nClick to read the passage in its page.")
        self.citation = citation
        passage = " ".join(str(citation.get("text", "")).split())
        if len(passage) > 220:
            passage = passage[:217].rstrip() + "…"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(10)
        number_label = QLabel(f"[{number}]")
        number_label.setObjectName("citationNumber")
        number_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QLabel(f"<b>{html.escape(citation_label(citation))}</b><br>"
                            f"<span>“{html.escape(passage)}”</span>")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(number_label)
        layout.addWidget(self.label, 1)
        self._plain = f"[{number}]  {citation_label(citation)}  —  “{passage}”"

    def text(self) -> str:
        return self._plain

    def click(self) -> None:
        self.clicked.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
                event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


class AnswerCard(QFrame):
    """One answer: streams in, then shows its sources and a Copy button."""

    citation_clicked = Signal(dict)
    finished = Signal()  # the answer is whole: its text, sources and checks are shown

    def __init__(self, question: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.setObjectName("answerCard")
        self.question = question  # what was asked: the source viewer highlights by it
        self._clock = clock
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        self.status = _muted("Thinking…")
        # The documents' own words first: found before the model runs, shown at once.
        self.quote_box = QFrame()
        self.quote_box.setObjectName("quoteBox")
        quote_layout = QVBoxLayout(self.quote_box)
        quote_layout.setContentsMargins(12, 8, 12, 8)
        quote_layout.setSpacing(4)
        self.quote_source = QToolButton()
        self.quote_source.setObjectName("quoteSource")
        self.quote_source.setToolTip("Read this passage in its document")
        self.quote_source.clicked.connect(self._open_quote)
        self.quote_text = QLabel()
        self.quote_text.setObjectName("quoteText")
        self.quote_text.setWordWrap(True)
        self.quote_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                                | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        quote_layout.addWidget(self.quote_source, 0, Qt.AlignmentFlag.AlignLeft)
        quote_layout.addWidget(self.quote_text)
        self.quote_box.hide()
        self.quote: dict[str, Any] | None = None
        self.answer_label = _muted("Answer, written by the model: check it against the quote "
                                   "and the sources")
        self.answer_label.hide()
        self.body = markdown_label()
        self.body.hide()
        self.checks = QLabel()
        self.checks.setObjectName("unsupportedNote")
        self.checks.setWordWrap(True)
        self.checks.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checks.hide()
        self.sentences: list[dict[str, Any]] = []
        self.sources = QVBoxLayout()
        self.sources.setSpacing(4)
        self.source_buttons: list[CitationButton] = []
        self.more_sources: QToolButton | None = None  # "Show all N sources", when some wait
        self.footer = QHBoxLayout()
        self.details = _muted("")
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy answer")
        self.copy_button.setToolTip("Copy this answer, with its sources and their passages, "
                                    "to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.copy_button.hide()
        self.footer.addWidget(self.details, 1)
        self.footer.addWidget(self.copy_button)
        layout.addWidget(self.status)
        layout.addWidget(self.quote_box)
        layout.addWidget(self.answer_label)
        layout.addWidget(self.body)
        layout.addWidget(self.checks)
        layout.addLayout(self.sources)
        layout.addLayout(self.footer)
        self.text = ""
        self.citations: list[dict[str, Any]] = []
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render)
        # A wait ("Searching your documents…") shows how long it has lasted, so it never looks
        # frozen.
        self._waiting = ""
        self._waiting_since = 0.0
        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self._tick)

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self._waiting, self._waiting_since = text, self._clock()
        if text.endswith("…"):
            self.ticker.start()
        else:
            self.ticker.stop()

    def _tick(self) -> None:
        seconds = int(self._clock() - self._waiting_since)
        if self._waiting and seconds >= 1:
            self.status.setText(f"{self._waiting} {elapsed_words(seconds)}")

    def set_quote(self, quote: dict[str, Any] | None) -> None:
        """The passage's own words (``{"text", "source", "page"}``), above the answer."""
        self.quote = quote
        if not quote:
            self.quote_box.hide()
            return
        self.quote_source.setText(f"From {citation_label(quote)}")
        self.quote_text.setText(f"“{' '.join(str(quote.get('text', '')).split())}”")
        self.quote_box.show()
        self.answer_label.show()

    def _open_quote(self) -> None:
        if self.quote:
            match = next((c for c in self.citations
                          if c.get("source") == self.quote.get("source")
                          and c.get("page") == self.quote.get("page")
                          and str(self.quote.get("text", ""))[:40] in " ".join(
                              str(c.get("text", "")).split())), None)
            self._emit_citation(match or dict(self.quote))

    def _emit_citation(self, citation: dict[str, Any]) -> None:
        """Open a source with what the answer made of it, so its viewer can highlight the part
        that answers rather than the whole passage."""
        focus = focus_for(citation, self.quote, self.sentences, self.question)
        self.citation_clicked.emit(dict(citation, focus=focus.to_json()))

    def mark_sentences(self, sentences: list[dict[str, Any]]) -> None:
        """Show which sentences the sources do not back: highlighted in the answer, and listed
        under it with the reason."""
        self.sentences = list(sentences)
        unsupported = [c for c in sentences if not c.get("supported")]
        if not unsupported:
            self.checks.hide()
            if sentences:
                self.checks.setText("")
            return
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setText(highlighted(self.text, [str(c.get("text", "")) for c in unsupported]))
        items = "".join(f"<li>{html.escape(str(c.get('text', '')))} "
                        f"<i>({html.escape(str(c.get('reason', '')))})</i></li>"
                        for c in unsupported)
        self.checks.setText(f"<b>⚠ Not backed by your documents: {len(unsupported)} of "
                            f"{len(sentences)} sentences</b> (marked above). Read the quote and "
                            f"the sources before relying on them.<ul>{items}</ul>")
        self.checks.setToolTip("Each sentence of the answer was compared with the passages it "
                               "cites: its numbers and names must be there, and its content.")
        self.checks.show()

    def append(self, piece: str) -> None:
        if not self.text:
            self.set_status("")
            self.body.show()
        self.text += piece
        if not self._render_timer.isActive():
            self._render_timer.start()

    def _render(self) -> None:
        self.body.setText(self.text)

    def finish(self, text: str, stats: dict[str, Any], citations: list[dict[str, Any]],
               note: str = "") -> None:
        self._render_timer.stop()
        self.text = text
        self.body.setText(text if text.strip() else "*(The model gave no answer.)*")
        self.body.show()
        self.set_status("")
        self.set_citations(citations)
        if stats.get("quote") and self.quote is None:
            self.set_quote(stats["quote"])
        self.mark_sentences(list(stats.get("sentences") or []))
        parts = []
        if stats.get("cancelled"):
            parts.append("Stopped")
        if note:
            parts.append(note)
        if stats.get("completion_tokens"):
            parts.append(stats_words(text, stats))
        self.details.setText(" · ".join(parts))
        self.details.setToolTip(stats_tooltip(stats) if stats.get("completion_tokens") else "")
        self.copy_button.setVisible(bool(text.strip()))
        self.finished.emit()

    def set_citations(self, citations: list[dict[str, Any]]) -> None:
        self.citations = list(citations)
        if not citations:
            return
        self.sources.addWidget(_muted("Sources"))
        for number, citation in enumerate(citations, start=1):
            button = CitationButton(number, citation)
            button.clicked.connect(lambda c=citation: self._emit_citation(c))
            button.setVisible(number <= SOURCES_SHOWN)
            self.sources.addWidget(button)
            self.source_buttons.append(button)
        if len(citations) > SOURCES_SHOWN:
            self.more_sources = QToolButton()
            self.more_sources.setObjectName("linkButton")
            self.more_sources.setText(f"Show all {len(citations)} sources")
            self.more_sources.setToolTip("The answer was written from all of them")
            self.more_sources.clicked.connect(self.show_all_sources)
            self.sources.addWidget(self.more_sources, 0, Qt.AlignmentFlag.AlignLeft)

    def show_all_sources(self) -> None:
        for button in self.source_buttons:
            button.show()
        if self.more_sources is not None:
            self.more_sources.hide()
        if len(self.source_buttons) > SOURCES_SHOWN:
            self.source_buttons[SOURCES_SHOWN].setFocus()  # the first one that appeared

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(answer_with_sources(self.text, self.citations,
                                                                self.quote))
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self, lambda: self.copy_button.setText("Copy answer"))


class NoticeCard(QFrame):
    """A refusal ('not in your documents') or an error: never dressed up as an answer."""

    def __init__(self, kind: str, title: str, text: str) -> None:
        super().__init__()
        self.setObjectName("refusalNotice" if kind == "refusal" else "errorNotice")
        self.kind = kind
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        heading = QLabel(title)
        heading.setStyleSheet("font-weight: 600;")
        self.body = QLabel(text)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(heading)
        layout.addWidget(self.body)


class EmptyState(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("emptyState")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 60, 40, 40)
        layout.setSpacing(12)
        title = QLabel("Ask a question about your documents")
        title.setObjectName("emptyTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)  # a narrow window wraps it rather than cutting it off
        steps = QLabel()
        self.steps = steps
        # Where questions and documents go: this computer, or also the practice's servers.
        self.where = "Everything stays on this computer."
        self.show_documents(0, None)
        steps.setObjectName("muted")
        steps.setWordWrap(True)
        steps.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(steps)
        layout.addStretch(2)


    def show_where(self, on_servers: bool) -> None:
        """Say truthfully where things go: with the model or the index on the practice's
        servers, not "this computer" alone."""
        self.where = ("Everything stays on this computer and the practice's own servers."
                      if on_servers else "Everything stays on this computer.")

    def show_documents(self, count: int, collection: str | None) -> None:
        """The first step says what is there: documents ready, or how to add them."""
        if count and collection:
            name = html.escape(collection)
            first = (f"1.  {count} document{'s' if count != 1 else ''} in “{name}” ready: add "
                     "more on the right, or ask straight away.<br>")
        else:
            first = ("1.  Add documents on the right: <b>Add files…</b>, <b>Add folder…</b>, or "
                     "drag them onto the window.<br>")
        self.steps.setText(first + "2.  Type your question below and press <b>Ctrl+Enter</b>."
                           "<br>3.  Click a source under the answer to read the passage in its "
                           f"page.<br><br>{self.where}")


class Transcript(QScrollArea):
    citation_clicked = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("transcript")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("transcriptBody")
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(28, 20, 28, 20)
        self._layout.setSpacing(14)
        self._layout.addStretch(1)
        self.setWidget(body)
        self.empty_state = EmptyState()
        self._layout.insertWidget(0, self.empty_state)
        self.verticalScrollBar().rangeChanged.connect(self._follow)
        self._at_bottom = True
        self.verticalScrollBar().valueChanged.connect(self._track)
        self._question = ""  # the last question shown: the answer after it belongs to it
        # An answer just finished and taller than the view: its top (the quote, the answer) is
        # kept in view, not its last source.
        self._anchor: AnswerCard | None = None

    def _track(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._at_bottom = value >= bar.maximum() - 24

    def _follow(self, _min: int, maximum: int) -> None:
        if not self._at_bottom:  # the reader scrolled up: leave the view where it is
            return
        anchor = self._anchor
        if anchor is not None and anchor.height() > self.viewport().height():
            self.verticalScrollBar().setValue(min(maximum, max(0, anchor.y() - 12)))
            self._anchor = None
            return
        self.verticalScrollBar().setValue(maximum)  # keep the streaming answer in view

    def _settle(self, card: AnswerCard) -> None:
        if self._at_bottom:
            self._anchor = card

    def cards(self) -> list[QWidget]:
        found = []
        for i in range(self._layout.count()):
            item = self._layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.empty_state:
                found.append(widget)
        return found

    def clear(self) -> None:
        for card in self.cards():
            self._layout.removeWidget(card)
            card.deleteLater()
        self.empty_state.show()
        self._at_bottom = True
        self._anchor = None

    def _add(self, card: QWidget) -> None:
        self.empty_state.hide()
        self._layout.insertWidget(self._layout.count() - 1, card)
        self._at_bottom = True
        self._anchor = None

    def remove(self, card: QWidget) -> None:
        self._layout.removeWidget(card)
        card.deleteLater()
        if not self.cards():
            self.empty_state.show()

    def add_question(self, text: str) -> QuestionCard:
        self._question = text
        card = QuestionCard(text)
        self._add(card)
        return card

    def add_answer(self) -> AnswerCard:
        card = AnswerCard(self._question)
        card.citation_clicked.connect(self.citation_clicked)
        card.finished.connect(lambda: self._settle(card))
        self._add(card)
        return card

    def add_notice(self, kind: str, title: str, text: str) -> NoticeCard:
        card = NoticeCard(kind, title, text)
        self._add(card)
        return card

    def show_messages(self, messages: list[Message]) -> None:
        self.clear()
        for message in messages:
            if message.role == "user":
                self.add_question(message.content)
            elif message.refused:
                self.add_notice("refusal", "Not in your documents", message.content)
            else:
                card = self.add_answer()
                note = "Answered from the model alone" if message.stats.get("model_only") else ""
                card.finish(message.content, message.stats, message.citations, note)


def highlighted(text: str, sentences: list[str]) -> str:
    """``text`` as HTML with each of ``sentences`` marked where it occurs: a sentence said twice
    and flagged twice is marked both times (the second was left unmarked)."""
    escaped = html.escape(text)
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        target = html.escape(sentence)
        start = 0
        while target and (at := escaped.find(target, start)) >= 0:
            end = at + len(target)
            if all(end <= s or at >= e for s, e in spans):
                spans.append((at, end))
                break
            start = at + 1
    pieces, done = [], 0
    for at, end in sorted(spans):
        pieces.append(escaped[done:at])
        pieces.append(f'<span style="background-color: {UNSUPPORTED_BG}; text-decoration: '
                      f'underline;" title="Not found in the sources">{escaped[at:end]}</span>')
        done = end
    pieces.append(escaped[done:])
    return "".join(pieces).replace("\n", "<br>")


def source_name(citation: dict[str, Any]) -> str:
    return Path(str(citation.get("source", ""))).name
