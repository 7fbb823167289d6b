"""The benchmark chart, drawn with Qt (already a dependency) on an offscreen image.

Left: hybrid search latency against collection size (log scale), p50 and p95, the index's
share, and the 50 ms target. Right: Enclave's throughput as a share of the raw engine's, with
each target marked, and the other figures as text.
"""

from __future__ import annotations

import itertools
import math
import os
import textwrap
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1500, 800
_BLUE, _ORANGE, _GREEN, _RED, _GREY = "#1f5fae", "#e07b00", "#2e8b3e", "#c62828", "#666666"


def _application() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A full QApplication, not a QGuiApplication: if this process later shows a widget (the test
    # suite does), Qt aborts when the one application object cannot host widgets.
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def draw_chart(result: dict[str, Any], path: Path, summary: list[str]) -> Path:
    """The chart of ``result`` (bench/runner.py), with ``summary`` (its lines of text)."""
    _app = _application()  # fonts need a GUI application; kept alive while drawing
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        title = QFont()
        title.setPixelSize(22)
        title.setBold(True)
        painter.setFont(title)
        env = result.get("environment", {})
        painter.drawText(30, 36, f"Enclave benchmarks ({result.get('profile')}) - "
                                 f"{env.get('date', '')}, {env.get('cpus')} CPUs")
        _search_panel(painter, result.get("search", {}), (60, 80, 720, 600))
        _ratio_panel(painter, result, (860, 80, 600, 250))
        body = QFont()
        body.setPixelSize(13)
        painter.setFont(body)
        painter.setPen(QColor("black"))
        y = 372
        for line in summary[1:]:
            indent = " " * (len(line) - len(line.lstrip()) + 4)
            for n, piece in enumerate(textwrap.wrap(line, 88, subsequent_indent=indent)):
                painter.drawText(860, y, piece if n else line[: len(line) - len(line.lstrip())]
                                 + piece.lstrip())
                y += 18
        painter.setPen(QColor(_GREY))
        painter.drawText(30, HEIGHT - 12, "enclave bench: Enclave against the raw engines, "
                                          "same machine, alternating runs; see bench.json")
    finally:
        painter.end()
    if not image.save(str(path)):  # the format follows the .png suffix
        raise OSError(f"could not write the chart to {path}")
    return path


def _panel_title(painter: Any, x0: int, y0: int, text: str) -> None:
    from PySide6.QtGui import QColor, QFont

    font = QFont()
    font.setPixelSize(16)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("black"))
    painter.drawText(x0, y0 - 8, text)


def _search_panel(painter: Any, search: dict[str, Any], box: tuple[int, int, int, int]) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QFont, QPen

    x0, y0, w, h = box
    _panel_title(painter, x0, y0, "Hybrid search latency vs collection size (warm)")
    sizes = search.get("sizes") or []
    if not sizes:
        painter.drawText(x0, y0 + 40, "no search figures")
        return
    top = max(max(s["p95_ms"] for s in sizes), 50.0) * 1.15
    xs = [math.log10(s["passages"]) for s in sizes]
    lo, hi = math.floor(min(xs)), math.ceil(max(xs))
    hi = hi if hi > lo else lo + 1

    def point(passages: float, ms: float) -> QPointF:
        fx = (math.log10(passages) - lo) / (hi - lo)
        return QPointF(x0 + fx * w, y0 + h - (ms / top) * h)

    small = QFont()
    small.setPixelSize(13)
    painter.setFont(small)
    painter.setPen(QPen(QColor("#dddddd"), 1))
    for step in range(6):
        ms = top * step / 5
        p = point(10 ** lo, ms)
        painter.drawLine(QPointF(x0, p.y()), QPointF(x0 + w, p.y()))
        painter.setPen(QColor(_GREY))
        painter.drawText(int(x0 - 55), int(p.y() + 5), f"{ms:.0f} ms")
        painter.setPen(QPen(QColor("#dddddd"), 1))
    painter.setPen(QColor(_GREY))
    for decade in range(lo, hi + 1):
        p = point(10 ** decade, 0)
        painter.drawText(int(p.x() - 20), y0 + h + 20, f"{10 ** decade:,}")
    painter.drawText(x0 + w // 2 - 60, y0 + h + 42, "passages (log scale)")
    painter.setPen(QPen(QColor("black"), 1))
    painter.drawLine(x0, y0 + h, x0 + w, y0 + h)
    painter.drawLine(x0, y0, x0, y0 + h)
    target = QPen(QColor(_RED), 2, Qt.PenStyle.DashLine)
    painter.setPen(target)
    t = point(10 ** lo, 50.0).y()
    painter.drawLine(QPointF(x0, t), QPointF(x0 + w, t))
    painter.drawText(int(x0 + w - 140), int(t - 6), "target p50 50 ms")
    series = (("p95_ms", _ORANGE, "p95"), ("p50_ms", _BLUE, "p50"),
              ("index_p50_ms", _GREEN, "p50 without the query embedding"))
    for legend_row, (key, color, label) in enumerate(series):
        pen = QPen(QColor(color), 3)
        painter.setPen(pen)
        points = [point(s["passages"], s[key]) for s in sizes]
        for a, b in itertools.pairwise(points):
            painter.drawLine(a, b)
        for s, p in zip(sizes, points, strict=True):
            painter.drawEllipse(p, 4, 4)
            below = key == "p50_ms"  # p50 and p95 sit close together: label one underneath
            painter.drawText(int(p.x() + 8), int(p.y() + (18 if below else -6)), f"{s[key]:.0f}")
        painter.drawLine(x0 + 20, y0 + 20 + 20 * legend_row, x0 + 50, y0 + 20 + 20 * legend_row)
        painter.drawText(x0 + 58, y0 + 25 + 20 * legend_row, label)


def _ratio_panel(painter: Any, result: dict[str, Any], box: tuple[int, int, int, int]) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QFont, QPen

    x0, y0, w, h = box
    _panel_title(painter, x0, y0, "Throughput: Enclave / raw engine (1.0 = no overhead)")
    g, i = result.get("generation", {}), result.get("ingestion", {})
    bars = [
        ("generation decode", g.get("decode_ratio"), g.get("target_decode_ratio")),
        ("decode, whole runs", g.get("decode_ratio_alternating_runs"), None),
        ("generation end to end", g.get("end_to_end_ratio"), None),
        ("ingestion pages/s", i.get("ratio"), i.get("target_ratio")),
    ]
    small = QFont()
    small.setPixelSize(14)
    painter.setFont(small)
    # 1.0 and the targets stay on the panel however far a ratio goes (ingestion's is about 4).
    label_w = 190
    scale_max = 1.1 * max([1.1, *(n for _l, value, target in bars for n in (value, target)
                                 if isinstance(n, int | float))])
    bar_h = 34
    for row, (label, value, target) in enumerate(bars):
        y = y0 + 20 + row * (bar_h + 22)
        painter.setPen(QColor("black"))
        painter.drawText(x0, int(y + bar_h / 2 + 5), label)
        if not isinstance(value, int | float):
            painter.drawText(x0 + label_w, int(y + bar_h / 2 + 5), "not measured")
            continue
        width = (w - label_w - 60) * min(value, scale_max) / scale_max
        ok = target is None or value >= target
        painter.fillRect(QRectF(x0 + label_w, y, width, bar_h), QColor(_GREEN if ok else _RED))
        painter.drawText(int(x0 + label_w + width + 8), int(y + bar_h / 2 + 5), f"{value:.3f}")
        if target is not None:
            tx = x0 + label_w + (w - label_w - 60) * target / scale_max
            painter.setPen(QPen(QColor("black"), 2))
            painter.drawLine(int(tx), int(y - 4), int(tx), int(y + bar_h + 4))
            painter.drawText(int(tx - 30), int(y + bar_h + 18), f"target {target}")
    one = x0 + label_w + (w - label_w - 60) / scale_max
    painter.setPen(QPen(QColor(_GREY), 1))
    painter.drawLine(int(one), y0 + 10, int(one), y0 + h - 10)
