"""A matplotlib Figure that shows itself as a picture in Jupyter.

The charts are built with the object-oriented API (no pyplot), so IPython has no display
formatter registered for them and a notebook would show ``<Figure size 640x360 with 1 Axes>``.
:class:`Chart` is a :class:`~matplotlib.figure.Figure` with ``_repr_png_``: any notebook that
ends a cell with a chart, or calls ``display(chart)``, gets the image (``image/png``), whether
or not ``%matplotlib inline`` is on. It is drawn in the chart fonts (:func:`model.report.fonts.font_rc`).
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.figure import Figure

from .fonts import font_rc

__all__ = ["DISPLAY_DPI", "Chart", "png_bytes"]

#: [dots per inch] Resolution of a chart shown in a notebook (a 6.4 in wide chart is 768 px).
DISPLAY_DPI = 120


def png_bytes(fig: Figure, dpi: int = DISPLAY_DPI) -> bytes:
    """The figure as PNG data, drawn in the chart fonts."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(font_rc()):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


class Chart(Figure):
    """A :class:`~matplotlib.figure.Figure` that Jupyter displays as a PNG image."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self)
