"""A PDF opens at the cited page in the desktop's own viewer when that viewer can take one."""

from __future__ import annotations

from pathlib import Path

from desktop.app.page_viewers import page_command

LEASE = Path("/m/lease.pdf")


def installed(*programs: str):
    return lambda name: f"/usr/bin/{name}" if name in programs else None


def test_the_desktops_own_viewer_is_told_the_page() -> None:
    which = installed("evince", "okular", "zathura")
    assert page_command(LEASE, 3, "org.gnome.Evince.desktop", which) == [
        "/usr/bin/evince", "--page-index", "3", "/m/lease.pdf"]
    assert page_command(LEASE, 3, "okularApplication_pdf.desktop\n", which) == [
        "/usr/bin/okular", "--page", "3", "/m/lease.pdf"]
    assert page_command(LEASE, 12, "org.pwmt.zathura.desktop", which) == [
        "/usr/bin/zathura", "--page", "12", "/m/lease.pdf"]


def test_a_viewer_that_takes_no_page_or_is_not_installed_is_left_to_the_system() -> None:
    which = installed("evince")
    assert page_command(LEASE, 3, "firefox.desktop", which) is None  # opened the usual way
    assert page_command(LEASE, 3, "org.kde.okular.desktop", which) is None  # not installed
    assert page_command(LEASE, 3, "", which) is None  # no desktop association at all
