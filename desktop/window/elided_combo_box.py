"""A combo box that shortens its current text with "…" in the middle to the width it has, so
a long model file name keeps its end ("… · Q4_K_M · 4.1 GB") and is never cut mid-letter. The
list that opens shows every item whole; the tooltip too."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget


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
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideMiddle,
                                             max(area.width(), 0))

    def paintEvent(self, _event: object) -> None:  # Qt's name
        painter = QStylePainter(self)
        option = self._label_option()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
