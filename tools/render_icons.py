"""Rasterise resources/icons/slapdesk.svg into the PNG sizes desktops look for.

Run after editing the SVG: ``.venv/bin/python tools/render_icons.py``. Writes
``resources/icons/hicolor/<N>x<N>/apps/io.github.slapdesk.SlapDesk.png`` for N in SIZES
(the freedesktop icon-theme layout), plus the SVG under ``scalable/apps``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

APP_ID = "io.github.slapdesk.SlapDesk"
SIZES = (16, 32, 48, 64, 128, 256)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def render(svg: Path, size: int, out: Path) -> None:
    """Render ``svg`` at ``size`` x ``size`` pixels into the PNG ``out``."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"{out}: could not write")


def main() -> int:
    """Write every size; print what was written."""
    _app = QGuiApplication(sys.argv[:1])
    svg = ICONS / "slapdesk.svg"
    for size in SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        render(svg, size, out)
        print(f"{out.relative_to(ICONS.parent.parent)} ({out.stat().st_size} bytes)")
    scalable = ICONS / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
