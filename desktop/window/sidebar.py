"""The list of conversations on the left, most recently used first, with a search field, New,
Rename, Delete and Export. Each row is the title on one line, cut with "…", and under it when
the conversation was last used, in plain words."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.app.conversations import Conversation

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DATE_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_PADDING = 8  # left and right of the text in a row
LINE_PADDING = 6  # above and below it
LINE_GAP = 1  # between the title and the date


def plain_date(stamp: str, now: datetime | None = None) -> str:
    """When, as a person says it: "14:05" today, "3 Mar" this year, "3 Mar 2025" before,
    in this computer's time zone."""
    try:
        when = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return ""
    today = (now or datetime.now().astimezone()).astimezone()
    if when.date() == today.date():
        return f"{when.hour:02d}:{when.minute:02d}"
    day = f"{when.day} {MONTHS[when.month - 1]}"
    return day if when.year == today.year else f"{day} {when.year}"


def _row_layout(rect: QRect, metrics: QFontMetrics, title: str
                ) -> tuple[QRect, str, QRect]:
    """Where a row's title (first line) and date (second line) go, and the title as it fits:
    one line, cut with "…"."""
    inner = rect.adjusted(ROW_PADDING, LINE_PADDING, -ROW_PADDING, -LINE_PADDING)
    line = metrics.height()
    title_rect = QRect(inner.left(), inner.top(), max(inner.width(), 0), line)
    date_rect = QRect(inner.left(), inner.top() + line + LINE_GAP, max(inner.width(), 0),
                      inner.height() - line - LINE_GAP)
    shown = metrics.elidedText(title, Qt.TextElideMode.ElideRight, title_rect.width())
    return title_rect, shown, date_rect


def _date_font(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
    return small


class ConversationRow(QStyledItemDelegate):
    """Draws a row: the style's background (hover, selection), the title, and under it the
    date in the muted colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:  # Qt's name
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title, date = opt.text, str(index.data(DATE_ROLE) or "")
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        title_rect, shown, date_rect = _row_layout(opt.rect, QFontMetrics(opt.font), title)
        palette: QPalette = opt.palette
        left = Qt.AlignmentFlag.AlignLeft
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(title_rect, int(left | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.setFont(_date_font(opt.font))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))  # the muted colour
        painter.drawText(date_rect, int(left | Qt.AlignmentFlag.AlignTop), date)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:  # Qt's name
        # Two lines high; as wide as the list gives, never wider: a long title is cut.
        height = (QFontMetrics(option.font).height() + LINE_GAP
                  + QFontMetrics(_date_font(option.font)).height() + 2 * LINE_PADDING)
        return QSize(0, height)


class ConversationSidebar(QWidget):
    selected = Signal(int)
    new_requested = Signal()
    rename_requested = Signal(int)
    delete_requested = Signal(int)
    export_requested = Signal(int, str)  # id, "md" | "pdf"
    search_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("sidebar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 14, 12, 12)
        layout.setSpacing(10)
        self.new_button = QPushButton("+  New conversation")
        self.new_button.setObjectName("primary")
        self.new_button.setToolTip("Start a clean conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        title = QLabel("CONVERSATIONS")
        title.setObjectName("sectionTitle")
        self.search = QLineEdit()
        self.search.setObjectName("conversationSearch")
        self.search.setPlaceholderText("Search conversations")
        self.search.setToolTip("Find a conversation by its title or by what was said in it "
                               "(Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed)
        self.list = QListWidget()
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.setWordWrap(False)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setItemDelegate(ConversationRow(self.list))
        self.no_match = QLabel("")
        self.no_match.setObjectName("muted")
        self.no_match.setWordWrap(True)
        self.no_match.hide()
        layout.addWidget(self.new_button)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.no_match)
        layout.addWidget(self.list, 1)
        self._updating = False

    def search_text(self) -> str:
        return self.search.text()

    def show_conversations(self, conversations: list[Conversation], current: int | None) -> None:
        self._updating = True
        try:
            self.list.clear()
            for conversation in conversations:
                item = QListWidgetItem(conversation.title)
                item.setData(Qt.ItemDataRole.UserRole, conversation.id)
                when = plain_date(conversation.last_active or conversation.created_at)
                item.setData(DATE_ROLE, when)
                tip = f"{conversation.title}\nLast used: {when}"
                if conversation.collection:
                    tip += f"\nDocuments: {conversation.collection}"
                item.setToolTip(tip + "\nRight-click to rename, export or delete.")
                self.list.addItem(item)
                if conversation.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self._updating = False
        wanted = self.search.text().strip()
        self.no_match.setText(f"No conversation matches “{wanted}”.")
        self.no_match.setVisible(bool(wanted) and not conversations)

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def dates(self) -> list[str]:
        return [str(self.list.item(i).data(DATE_ROLE)) for i in range(self.list.count())]

    def shown_titles(self) -> list[str]:
        """The titles as drawn at the list's present width: one line each, cut with "…"."""
        metrics = self.list.fontMetrics()
        shown = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            rect = self.list.visualItemRect(item)
            shown.append(_row_layout(rect, metrics, item.text())[1])
        return shown

    def _current_changed(self, item: QListWidgetItem | None, _old: object) -> None:
        if item is not None and not self._updating:
            self.selected.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        conversation_id = int(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename_requested.emit(conversation_id))
        menu.addAction("Export as Markdown…",
                       lambda: self.export_requested.emit(conversation_id, "md"))
        menu.addAction("Export as PDF…", lambda: self.export_requested.emit(conversation_id, "pdf"))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.delete_requested.emit(conversation_id))
        menu.exec(self.list.viewport().mapToGlobal(pos))
