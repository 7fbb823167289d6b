"""The screenshot tour writes a real, non-blank picture of each screen at the size asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from desktop.window import screenshot_tour

SCREENS = ("empty", "documents-with-a-failed-file", "answer", "source-viewer", "settings",
           "models", "about", "removal-confirmation", "long-title")


@pytest.mark.skipif(not Path("/usr/share/common-licenses/GPL-3").exists(),
                    reason="the tour's documents are the licence texts Debian ships")
def test_the_tour_photographs_every_screen_at_the_size_asked(
        tmp_path: Path, default_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCLAVE_MODEL", str(default_model_path))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    out = tmp_path / "shots"
    assert screenshot_tour.main(["--out", str(out), "--sizes", "1024x700",
                                 "--themes", "light", "--home", str(tmp_path / "home")]) == 0
    for screen in SCREENS:
        image = QImage(str(out / f"light-1024x700-{screen}.png"))
        assert not image.isNull(), screen
        if screen not in ("source-viewer", "settings", "models", "about"):  # dialogs: own size
            assert (image.width(), image.height()) == (1024, 700), screen
        small = image.scaled(64, 64)
        colours = {small.pixel(x, y) for x in range(64) for y in range(64)}
        assert len(colours) > 8, f"{screen} is blank"
