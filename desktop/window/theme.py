"""Light and dark themes that follow the system colour scheme (or ENCLAVE_THEME=light|dark).

Fusion style with our own palette, so the window looks the same calm way on every platform; one
small style sheet for spacing and for the few things a palette cannot say (notices, cards).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Colors:
    window: str
    surface: str  # cards, inputs
    sidebar: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    user_bubble: str
    notice_bg: str  # refusal ("not in your documents")
    notice_border: str
    error_bg: str
    error_border: str
    error_text: str
    highlight_passage: str


LIGHT = Colors(
    window="#f6f7f9", surface="#ffffff", sidebar="#eef0f3", text="#1f2328", muted="#5f6b7a",
    border="#d6dae0", accent="#2f6fdd", accent_text="#ffffff", user_bubble="#e3ecfb",
    notice_bg="#fff6dd", notice_border="#e2c166", error_bg="#fde8e8", error_border="#e09a9a",
    error_text="#b42318",
    highlight_passage="#fff1a8",
)
DARK = Colors(
    window="#1c1f24", surface="#24282e", sidebar="#181a1f", text="#e6e8eb", muted="#9aa4b1",
    border="#363c45", accent="#5b93f0", accent_text="#0d1117", user_bubble="#27364f",
    notice_bg="#3a3120", notice_border="#8a7233", error_bg="#442326", error_border="#9b4a50",
    error_text="#ff9b8f",
    highlight_passage="#6b5a14",
)


def wants_dark(app: QGuiApplication) -> bool:
    forced = os.environ.get("ENCLAVE_THEME", "").lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def palette_for(c: Colors) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, c.window), (role.WindowText, c.text), (role.Base, c.surface),
        (role.AlternateBase, c.sidebar), (role.Text, c.text), (role.Button, c.surface),
        (role.ButtonText, c.text), (role.Highlight, c.accent),
        (role.HighlightedText, c.accent_text), (role.ToolTipBase, c.surface),
        (role.ToolTipText, c.text), (role.PlaceholderText, c.muted), (role.Link, c.accent),
        (role.Mid, c.border), (role.Light, c.surface), (role.Midlight, c.border),
    ):
        p.setColor(r, QColor(value))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(c.muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(c.muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(c.muted))
    return p


def style_sheet(c: Colors) -> str:
    return f"""
QWidget {{ font-size: 10.5pt; }}
QMainWindow, QDialog {{ background: {c.window}; }}
#sidebar, #documentsPanel {{ background: {c.sidebar}; }}
#sidebar QListWidget, #documentsPanel QListWidget {{
    background: transparent; border: 2px solid transparent; border-radius: 8px; outline: none; }}
#sidebar QListWidget:focus, #documentsPanel QListWidget:focus {{ border-color: {c.accent}; }}
#sidebar QListWidget::item, #documentsPanel QListWidget::item {{
    padding: 6px 3px; border-radius: 6px; margin: 1px 0; }}
#sidebar QListWidget::item:selected {{ background: {c.user_bubble}; color: {c.text}; }}
#documentsPanel QListWidget::item:selected {{ background: {c.user_bubble}; color: {c.text}; }}
/* The documents list (documents_panel.py): the selected documents stand out, and so does the
   current row while the keyboard is in the list (current is not selected: Tab makes it). */
#documentsPanel QListWidget#documentList::item {{ border: 1px solid transparent; }}
#documentsPanel QListWidget#documentList::item:selected {{ background: {c.accent};
    color: {c.accent_text}; }}
#documentsPanel QListWidget#documentList::item:focus {{ border: 1px dashed {c.accent}; }}
#sectionTitle {{ font-weight: 600; color: {c.muted}; font-size: 9pt;
    letter-spacing: 0.5px; }}
#conversationTitle {{ font-size: 13pt; font-weight: 600; }}
#muted {{ color: {c.muted}; }}
#transcript {{ background: {c.window}; border: none; }}
#transcriptBody {{ background: {c.window}; }}
#userMessage {{ background: {c.user_bubble}; border-radius: 10px; }}
#answerCard {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px; }}
#quoteBox {{ background: {c.user_bubble}; border-left: 4px solid {c.accent}; border-radius: 4px; }}
#quoteText {{ font-style: italic; }}
#quoteSource {{ font-weight: 600; border: 2px solid transparent; padding: 0; }}
#quoteSource:focus {{ border-color: {c.accent}; }}
#linkButton {{ color: {c.accent}; }}
#unsupportedNote {{ color: {c.error_text}; }}
#refusalNotice {{ background: {c.notice_bg}; border: 1px solid {c.notice_border};
    border-radius: 10px; }}
#errorNotice, #banner {{ background: {c.error_bg}; border: 1px solid {c.error_border};
    border-radius: 8px; }}
#infoNotice {{ background: {c.notice_bg}; border: 1px solid {c.notice_border};
    border-radius: 8px; }}
#citation {{ border: 1px solid {c.border}; border-radius: 6px; background: {c.window};
    padding: 1px; }}
#citation:hover {{ border-color: {c.accent}; }}
#citation:focus {{ border: 2px solid {c.accent}; padding: 0; }}
#citationNumber {{ color: {c.accent}; font-weight: 600; }}
#emptyState {{ color: {c.muted}; }}
#emptyTitle {{ font-size: 16pt; font-weight: 600; color: {c.text}; }}
#composer {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px;
    padding: 8px; font-size: 11pt; }}
#composer:focus {{ border: 2px solid {c.accent}; padding: 7px; }}
QPushButton {{ padding: 6px 14px; border: 1px solid {c.border}; border-radius: 6px;
    background: {c.surface}; }}
QPushButton:hover {{ border-color: {c.accent}; }}
QPushButton:disabled {{ color: {c.muted}; }}
QPushButton:focus {{ border: 2px solid {c.accent}; padding: 5px 13px; }}
QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; border: none;
    font-weight: 600; }}
QPushButton#primary:disabled {{ background: {c.border}; color: {c.muted}; }}
QPushButton#stop {{ background: {c.error_bg}; border: 1px solid {c.error_border}; }}
QPushButton#primary:focus, QPushButton#stop:focus {{ border: 2px solid {c.text};
    padding: 4px 12px; }}
QPushButton#stop:focus {{ padding: 5px 13px; }}
QToolButton {{ padding: 1px 6px; border: 2px solid transparent; border-radius: 5px; }}
QToolButton:hover {{ background: {c.border}; }}
QToolButton:focus {{ border-color: {c.accent}; }}
QLineEdit#conversationSearch, QPlainTextEdit {{ background: {c.surface};
    border: 1px solid {c.border}; border-radius: 6px; padding: 4px 6px; }}
QLineEdit#conversationSearch:focus, QPlainTextEdit:focus {{ border: 2px solid {c.accent};
    padding: 3px 5px; }}
QStatusBar {{ background: {c.sidebar}; border-top: 1px solid {c.border}; }}
QStatusBar QLabel {{ color: {c.muted}; padding: 2px 6px; }}
QStatusBar QToolButton {{ color: {c.muted}; padding: 0 4px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; border: none; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; border: none; }}
QScrollBar::handle:vertical {{ background: {c.border}; border-radius: 3px; min-height: 28px;
    margin: 2px; }}
QScrollBar::handle:horizontal {{ background: {c.border}; border-radius: 3px; min-width: 28px;
    margin: 2px; }}
QScrollBar::handle:hover {{ background: {c.muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none;
    background: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QProgressBar {{ border: 1px solid {c.border}; border-radius: 4px; background: {c.surface};
    text-align: center; height: 14px; }}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 3px; }}
QToolButton::menu-indicator {{ image: none; width: 0; }}
QSplitter::handle {{ background: {c.border}; }}
"""


def apply_theme(app: QApplication) -> Colors:
    colors = DARK if wants_dark(app) else LIGHT
    app.setStyle("Fusion")
    app.setPalette(palette_for(colors))
    font = QFont(app.font())
    font.setPointSizeF(10.5)
    app.setFont(font)
    app.setStyleSheet(style_sheet(colors))
    return colors
