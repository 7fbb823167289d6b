"""A combo box that shortens its current text with "…" to the width it has, so a long model
file name keeps its end ("…Q4_K_M.gguf", "…Q4_K_M · 4.1 GB"), which is what tells one model
file from another, and is never cut mid-letter. The list that opens shows every item whole; the
tooltip too."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget

# Where a label's details begin: " · Q4_K_M · 4.1 GB", "  (file not found)".
_DETAILS = re.compile(r" · |  \(")
_EXTENSION = re.compile(r"\.gguf$", re.IGNORECASE)
_SPLIT_PART = re.compile(r"-\d{5}-of-\d{5}$")
# The end never given up for the name's start, at most this share of the width.
_MOST_KEPT = 0.6


def tail_start(text: str) -> int:
    """Where the part that tells model files apart begins: the quantisation and what follows
    ("Llama-3.1-8B.Q4_K_M · 4.1 GB" -> "Q4_K_M · 4.1 GB"); len(text) when there is none."""
    details = _DETAILS.search(text)
    if details and text.count(" · ") >= 2:  # "name · Q4_K_M · 4.1 GB": the quantisation's own
        return details.end()
    name_end = details.start() if details else len(text)
    stem = _EXTENSION.sub("", text[:name_end])
    stem = _SPLIT_PART.sub("", stem)  # "…-Q4_K_M-00001-of-00002": the part number goes along
    cut = max(stem.rfind("."), stem.rfind("-"))
    if cut > 0:
        return cut + 1
    return name_end


def elide_keeping_end(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` cut with "…" to ``width`` pixels, its end (tail_start) kept whole when it takes
    no more than most of the width; otherwise cut in the middle."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    tail = text[tail_start(text):]
    tail_width = metrics.horizontalAdvance(tail)
    if tail and tail_width <= width * _MOST_KEPT:
        head = metrics.elidedText(text[:len(text) - len(tail)], Qt.TextElideMode.ElideRight,
                                  width - tail_width)
        if head.endswith("…"):
            return head + tail
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, max(width, 0))


class ElidedComboBox(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Its width comes from the layout, not from its longest item.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.currentTextChanged.connect(self.setToolTip)

    def _label_option(self) -> QStyleOptionComboBox:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        return option

    def shown_text(self) -> str:
        """What is on screen: the current text, cut with "…" to the box's text area."""
        option = self._label_option()
        area = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                           QStyle.SubControl.SC_ComboBoxEditField, self)
        return elide_keeping_end(self.currentText(), self.fontMetrics(), area.width())

    def paintEvent(self, _event: object) -> None:  # Qt's name
        painter = QStylePainter(self)
        option = self._label_option()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
