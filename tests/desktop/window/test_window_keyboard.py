"""The window from the keyboard, and the conversation list: a focus ring on whatever has the
focus, Ctrl+L to the question box, the keyboard back in the question box when a source is
closed, dates, search, order and "…" in the list, themed scrollbars, and the Help menu."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QWidget

from desktop.window.help_menu import AboutDialog, ShortcutsDialog
from desktop.window.sidebar import plain_date
from desktop.window.source_viewer import SourceViewer
from desktop.window.theme import DARK, LIGHT, apply_theme
from tests.desktop.window.window_helpers import open_window

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

CITATION = {"source": "/nowhere/lease.pdf", "page": 4, "score": 0.8,
            "text": "The tenant shall keep the roof, gutters and drains in good repair."}


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest, qapp: QApplication,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The window's real theme, as Enclave applies it at start."""
    monkeypatch.setenv("ENCLAVE_THEME", request.param)
    apply_theme(qapp)
    yield request.param
    monkeypatch.setenv("ENCLAVE_THEME", "light")
    apply_theme(qapp)


def _focused(qtbot, widget: QWidget) -> None:
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)


def _edge(widget: QWidget) -> list[str]:
    """The colours across the widget's left edge, half-way down: where a focus ring is drawn
    (not the whole widget: a text cursor blinks inside)."""
    image: QImage = widget.grab().toImage()
    middle = image.height() // 2
    return [QColor(image.pixel(x, middle)).name() for x in range(3)]


def test_whatever_has_the_keyboard_focus_shows_a_ring(qtbot, theme) -> None:
    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    for conversation in ("Lease review", "Discharge notes"):
        window.store.create(conversation)
    window.refresh_sidebar()
    window.composer.edit.setFocus()
    parts = {"Ask": window.composer.button, "New conversation": window.sidebar.new_button,
             "Instructions": window.instructions_button, "Export": window.export_button,
             "the conversation list": window.sidebar.list,
             "the search field": window.sidebar.search}
    for name, widget in parts.items():
        _focused(qtbot, window.composer.edit)
        unfocused, size = _edge(widget), widget.size()
        _focused(qtbot, widget)
        assert _edge(widget) != unfocused, f"{name} looks the same with the focus ({theme})"
        assert widget.size() == size, f"{name} changes size with the focus"


def test_the_instructions_field_shows_the_focus(qtbot, theme) -> None:
    from PySide6.QtWidgets import QPlainTextEdit

    other, field = QPlainTextEdit(), QPlainTextEdit()  # as in the Instructions dialog
    holder = QWidget()
    qtbot.addWidget(holder)
    other.setParent(holder)
    field.setParent(holder)
    field.move(0, 120)
    holder.show()
    qtbot.waitExposed(holder)
    _focused(qtbot, other)
    unfocused = _edge(field)
    _focused(qtbot, field)
    assert _edge(field) != unfocused


def test_ctrl_l_goes_to_the_question_box_from_anywhere(qtbot) -> None:
    window = open_window(qtbot, start=False)
    _focused(qtbot, window.sidebar.list)
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.composer.edit
    qtbot.keyClicks(window.composer.edit, "roof")
    assert window.composer.edit.toPlainText() == "roof"
    [action] = [a for menu in window.menuBar().actions() for a in menu.menu().actions()
                if a.shortcut().toString() == "Ctrl+L"]
    assert action.text().replace("&", "") == "Type a question"  # where a person finds it


def _open_source_from_the_keyboard(qtbot, window) -> SourceViewer:
    conversation = window.store.create("Lease review")
    window.store.add_message(conversation.id, "user", "Who repairs the roof?")
    window.store.add_message(conversation.id, "assistant", "The tenant [1].",
                             citations=[CITATION])
    window.refresh_sidebar()
    window.open_conversation(conversation.id)
    [card] = window.transcript.findChildren(QWidget, "citation")
    _focused(qtbot, card)
    qtbot.keyClick(card, Qt.Key.Key_Return)
    [viewer] = [v for v in window.findChildren(SourceViewer) if v.isVisible()]
    qtbot.waitExposed(viewer)
    qtbot.waitUntil(lambda: "cannot be read now" in viewer.note.text())  # the file is gone
    return viewer


def _visible_viewers(window) -> list[SourceViewer]:
    return [v for v in window.findChildren(SourceViewer) if v.isVisible()]


@pytest.mark.parametrize("how", ["Esc", "the window's close box"])
def test_after_a_source_is_closed_typing_goes_to_the_question_box(qtbot, how) -> None:
    window = open_window(qtbot, start=False)
    viewer = _open_source_from_the_keyboard(qtbot, window)
    viewer.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is viewer)
    if how == "Esc":
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    else:
        viewer.close()
    qtbot.waitUntil(lambda: not _visible_viewers(window))
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.composer.edit)
    focus = QApplication.focusWidget()
    qtbot.keyClicks(focus, "and the gutters")  # Space among them: it must not reopen the page
    qtbot.keyClick(focus, Qt.Key.Key_Space)
    assert window.composer.edit.toPlainText() == "and the gutters "
    assert _visible_viewers(window) == []


def test_the_list_shows_when_each_conversation_was_last_used() -> None:
    now = datetime(2026, 12, 2, 15, 30).astimezone()
    assert plain_date((now - timedelta(hours=2)).isoformat(), now) == "13:30"
    assert plain_date(datetime(2026, 3, 3, 9, 0).astimezone().isoformat(), now) == "3 Mar"
    assert plain_date(datetime(2025, 3, 3, 9, 0).astimezone().isoformat(), now) == "3 Mar 2025"
    assert plain_date("", now) == ""


def test_the_sidebar_dates_search_and_order(qtbot) -> None:
    window = open_window(qtbot, start=False)
    store = window.store
    lease = store.create("Lease review")
    store.add_message(lease.id, "assistant", "The tenant repairs the roof.")
    notes = store.create("Discharge notes")
    store.add_message(notes.id, "user", "What was the dose?")
    window.refresh_sidebar()
    sidebar = window.sidebar
    assert sidebar.titles() == ["Discharge notes", "Lease review"]
    today = plain_date(store.get(notes.id).last_active)
    assert ":" in today and sidebar.dates() == [today, plain_date(store.get(lease.id).last_active)]

    window.rename_conversation(lease.id, "Lease review, clause 4")
    assert sidebar.titles() == ["Discharge notes", "Lease review, clause 4"], "renaming moved it"

    _focused(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is sidebar.search
    qtbot.keyClicks(sidebar.search, "ROOF")  # said in the conversation, not in its title
    assert sidebar.titles() == ["Lease review, clause 4"]
    sidebar.search.setText("discharge")
    assert sidebar.titles() == ["Discharge notes"]
    sidebar.search.setText("gutters")
    assert sidebar.titles() == [] and sidebar.no_match.isVisible()
    assert "gutters" in sidebar.no_match.text()
    sidebar.search.clear()
    assert sidebar.titles() == ["Discharge notes", "Lease review, clause 4"]
    assert not sidebar.no_match.isVisible()


def test_a_long_title_is_one_line_cut_with_an_ellipsis(qtbot) -> None:
    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    long_title = ("What does the lease say about the tenant's obligations to repair the roof, "
                  "gutters and drains during the tenancy")
    window.store.create(long_title)
    window.refresh_sidebar()
    qtbot.wait(20)
    [shown] = window.sidebar.shown_titles()
    assert shown.endswith("…") and long_title.startswith(shown[:-1])
    item = window.sidebar.list.item(0)
    assert item.toolTip().startswith(long_title)  # the whole title, on hover
    rect = window.sidebar.list.visualItemRect(item)
    assert rect.right() < window.sidebar.list.viewport().width()  # no sideways scrolling
    assert window.minimumSizeHint().width() <= 1024


def test_scrollbars_follow_the_theme(qtbot, theme) -> None:
    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    for number in range(40):
        window.store.create(f"Matter {number}")
    window.refresh_sidebar()
    bar = window.sidebar.list.verticalScrollBar()
    qtbot.waitUntil(bar.isVisible)
    # As drawn in the window: the track below the handle (the list is at its top).
    where = bar.mapTo(window, QPoint(bar.width() // 2, bar.height() * 3 // 4))
    shown = window.grab().toImage()
    ratio = shown.devicePixelRatio()
    below = QColor(shown.pixel(int(where.x() * ratio), int(where.y() * ratio)))
    surroundings = QColor((DARK if theme == "dark" else LIGHT).sidebar)
    assert abs(below.lightness() - surroundings.lightness()) < 30, (
        f"the {theme} scrollbar track is {below.name()} on a {surroundings.name()} sidebar")


def test_the_help_menu_says_what_enclave_is_and_where_the_data_lives(qtbot) -> None:
    window = open_window(qtbot, start=False)
    [help_menu] = [a.menu() for a in window.menuBar().actions()
                   if a.text().replace("&", "") == "Help"]
    names = [a.text().replace("&", "") for a in help_menu.actions()]
    assert names == ["Keyboard shortcuts", "About Enclave"]
    help_menu.actions()[1].trigger()
    [about] = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
    text = about.text()
    assert f"Enclave {importlib.metadata.version('enclave')}" in text
    assert window.settings.model_path.name in text
    assert "leaves this computer" in text
    assert str(window.settings.home) in text
    help_menu.actions()[0].trigger()
    [shortcuts] = [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]
    keys = [keys for keys, _what in shortcuts.rows()]
    assert {"Ctrl+L", "Ctrl+N", "Ctrl+F", "Esc", "Ctrl+Enter"} <= set(keys)
