"""Small PNG charts for the emails, drawn with matplotlib's Agg backend in memory.

Every chart function returns a :class:`Chart` and never raises on empty input: with
nothing to draw it returns a "no data yet" placeholder image instead. Charts are 6 in
wide, i.e. 600 px at the default 100 dpi.

Chinese chart text needs a font with CJK glyphs. :func:`cjk_font` looks for one among
the installed fonts (Noto Sans CJK, WenQuanYi, Source Han, Droid Sans Fallback, ...;
Debian: ``fonts-wqy-zenhei`` or ``fonts-noto-cjk``). Without one, zh_CN charts are
labelled in English (the rest of the email stays Chinese) and the rendered email carries
a warning saying so.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede any pyplot import elsewhere

import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reports.formatting import Formatter

WIDTH_IN = 6.0


class _QuietFontWeights(logging.Filter):
    """CJK fonts often ship one weight; matplotlib then logs a warning per text, which is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to find font weight" not in record.getMessage()


logging.getLogger("matplotlib.font_manager").addFilter(_QuietFontWeights())
PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
TEXT_COLOUR = "#1f2937"
GRID_COLOUR = "#e5e7eb"

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)
_CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy-", "droidsansfallback", "uming", "ukai")
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    str(Path.home() / ".fonts"),
    str(Path.home() / ".local/share/fonts"),
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes plus the alt text and pixel size for the <img> tag."""

    name: str
    png: bytes
    alt: str
    width: int
    height: int
    is_placeholder: bool = False

    @property
    def cid(self) -> str:
        """Content-ID (without angle brackets), unique per image content."""
        return f"{self.name}.{hashlib.sha256(self.png).hexdigest()[:10]}@retention-report"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font family with CJK glyphs, or None."""
    known = _installed_families()
    for family in _CJK_FAMILIES:
        if family in known:
            return family
    # matplotlib's font cache may predate a font installed later: register files directly.
    for folder in _FONT_DIRS:
        root = Path(folder)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in {".ttf", ".ttc", ".otf"} and any(h in path.name.lower() for h in _CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    continue
    known = _installed_families()
    return next((family for family in _CJK_FAMILIES if family in known), None)


def _installed_families() -> set[str]:
    # matplotlib's cached font list can name fonts that were uninstalled since
    return {entry.name for entry in font_manager.fontManager.ttflist if Path(entry.fname).exists()}


@dataclass(frozen=True)
class ChartStyle:
    """Fonts, resolution and label language for one email's charts."""

    fmt: Formatter
    dpi: int = 100
    font_family: tuple[str, ...] = ("DejaVu Sans",)

    @classmethod
    def for_formatter(cls, fmt: Formatter, dpi: int = 100) -> tuple[ChartStyle, str | None]:
        """The style for ``fmt``'s locale, and a warning when CJK labels had to fall back to English."""
        if fmt.locale.startswith("zh"):
            family = cjk_font()
            if family is None:
                english = Formatter("en", fmt.currency, fmt.tz.key)
                return cls(english, dpi), "no CJK font installed: chart labels are in English"
            return cls(fmt, dpi, ("DejaVu Sans", family)), None
        return cls(fmt, dpi), None

    def figure(self, height_in: float) -> Figure:
        return Figure(figsize=(WIDTH_IN, height_in), dpi=self.dpi, facecolor="white")

    def rc(self) -> dict[str, object]:
        return {
            "font.family": list(self.font_family),
            "font.size": 9,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.edgecolor": GRID_COLOUR,
            "axes.labelcolor": TEXT_COLOUR,
            "text.color": TEXT_COLOUR,
            "xtick.color": TEXT_COLOUR,
            "ytick.color": TEXT_COLOUR,
            "axes.unicode_minus": False,
        }


def _finish(name: str, title: str, fig: Figure, style: ChartStyle, placeholder: bool = False) -> Chart:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=style.dpi, facecolor="white")
    width, height = (int(round(v)) for v in fig.get_size_inches() * style.dpi)
    return Chart(name=name, png=buffer.getvalue(), alt=title, width=width, height=height, is_placeholder=placeholder)


def placeholder(name: str, title: str, style: ChartStyle) -> Chart:
    """A slim image with the chart title and 'No data yet'."""
    with matplotlib.rc_context(style.rc()):
        fig = style.figure(1.1)
        fig.text(0.02, 0.72, title, fontsize=11, fontweight="bold", ha="left", va="center")
        fig.text(0.5, 0.32, style.fmt.t("common.no_data"), fontsize=10, color="#6b7280", ha="center", va="center")
        return _finish(name, f"{title}: {style.fmt.t('common.no_data')}", fig, style, placeholder=True)


def _month_labels(periods: Sequence[pd.Period], fmt: Formatter) -> list[str]:
    """Month names, with the year on a second line at the first tick and every January."""
    return [
        fmt.month_short(period) + ("\n" + fmt.year(period) if index == 0 or period.month == 1 else "")
        for index, period in enumerate(periods)
    ]


def _value_formatter(kind: str, fmt: Formatter) -> FuncFormatter:
    if kind == "percent":
        return FuncFormatter(lambda value, _pos: fmt.percent(value, 0))
    if kind == "integer":
        return FuncFormatter(lambda value, _pos: fmt.integer(value))
    return FuncFormatter(lambda value, _pos: fmt.number(value, 1))


def line_chart(
    name: str,
    title: str,
    series: Mapping[str, pd.Series],
    style: ChartStyle,
    value_kind: str = "number",
    height_in: float | None = None,
) -> Chart:
    """Monthly lines: ``series`` maps a legend label to values indexed by monthly Period."""
    series = {label: values.dropna() for label, values in series.items() if values is not None}
    series = {label: values for label, values in series.items() if not values.empty}
    if not series:
        return placeholder(name, title, style)
    months = sorted(set().union(*(values.index for values in series.values())))
    position = {period: index for index, period in enumerate(months)}
    with matplotlib.rc_context(style.rc()):
        fig = style.figure(height_in or (2.6 if len(series) == 1 else 3.0))
        ax = fig.add_subplot()
        for index, (label, values) in enumerate(series.items()):
            values = values.sort_index()
            xs = [position[period] for period in values.index]
            colour = PALETTE[index % len(PALETTE)]
            ax.plot(xs, values.to_numpy(dtype=float), marker="o", markersize=3, linewidth=1.8, color=colour, label=label)
        if len(series) == 1:
            only = next(iter(series.values())).sort_index()
            value = float(only.iloc[-1])
            text = {"percent": style.fmt.percent, "integer": style.fmt.integer}.get(value_kind, lambda v: style.fmt.number(v, 2))(
                value
            )
            ax.annotate(
                text,
                (position[only.index[-1]], value),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
            )
        step = max(1, int(np.ceil(len(months) / 12)))
        ticks = list(range(0, len(months), step))
        ax.set_xticks(ticks, [_month_labels(months, style.fmt)[i] for i in ticks])
        ax.yaxis.set_major_formatter(_value_formatter(value_kind, style.fmt))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(title, loc="left")
        if len(series) > 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
        fig.tight_layout()
        return _finish(name, title, fig, style)


def cohort_heatmap(
    name: str, title: str, frame: pd.DataFrame, style: ChartStyle, max_cohorts: int = 12, max_months: int = 12
) -> Chart:
    """Retention by cohort month (rows) and months since first order (columns)."""
    if frame is None or frame.empty:
        return placeholder(name, title, style)
    data = frame.dropna(subset=["retention_rate"])
    data = data[(data["months_since_first"] >= 0) & (data["months_since_first"] <= max_months)]
    if data.empty:
        return placeholder(name, title, style)
    data = data.assign(cohort=pd.to_datetime(data["cohort_month"].astype(str)).dt.to_period("M"))
    matrix = data.pivot_table(index="cohort", columns="months_since_first", values="retention_rate", aggfunc="mean")
    matrix = matrix.sort_index().tail(max_cohorts)
    values = matrix.to_numpy(dtype=float)
    rows, cols = values.shape
    fmt = style.fmt
    with matplotlib.rc_context(style.rc()):
        fig = style.figure(max(2.2, 0.8 + 0.24 * rows))
        ax = fig.add_subplot()
        masked = np.ma.masked_invalid(values)
        # Month 0 is 100% by definition: scale the colours on the later months so they stay distinguishable.
        later = values[:, [i for i, col in enumerate(matrix.columns) if col > 0]]
        top = float(np.nanmax(later)) if later.size and not np.isnan(later).all() else float(np.nanmax(values))
        image = ax.imshow(masked, cmap="Blues", vmin=0, vmax=max(0.05, top), aspect="auto")
        for r in range(rows):
            for c in range(cols):
                if not np.isnan(values[r, c]):
                    dark = values[r, c] > 0.6 * image.norm.vmax
                    ax.text(
                        c,
                        r,
                        fmt.percent(values[r, c], 0),
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if dark else TEXT_COLOUR,
                    )
        ax.set_xticks(range(cols), [str(int(col)) for col in matrix.columns])
        ax.set_yticks(range(rows), [fmt.month(period) for period in matrix.index])
        ax.set_xlabel(fmt.t("charts.months_since_first"))
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(title, loc="left")
        fig.tight_layout()
        return _finish(name, title, fig, style)


def segment_bars(name: str, title: str, frame: pd.DataFrame, style: ChartStyle) -> Chart:
    """Horizontal bars of customers per segment now vs the previous period."""
    if frame is None or frame.empty:
        return placeholder(name, title, style)
    data = frame.sort_values("customers", ascending=True)
    fmt = style.fmt
    labels = [fmt.label("segments", segment) for segment in data["segment"]]
    current = data["customers"].to_numpy(dtype=float)
    has_previous = "previous_customers" in data.columns and data["previous_customers"].notna().any()
    positions = np.arange(len(data))
    with matplotlib.rc_context(style.rc()):
        fig = style.figure(max(2.0, 0.9 + 0.28 * len(data)))
        ax = fig.add_subplot()
        height = 0.38 if has_previous else 0.6
        if has_previous:
            previous = data["previous_customers"].to_numpy(dtype=float)
            ax.barh(
                positions - height / 2,
                np.nan_to_num(previous),
                height=height,
                color="#cbd5e1",
                label=fmt.t("charts.previous_period"),
            )
            ax.barh(positions + height / 2, current, height=height, color=PALETTE[0], label=fmt.t("charts.this_period"))
            ax.legend(loc="lower right", frameon=False, fontsize=8)
        else:
            ax.barh(positions, current, height=height, color=PALETTE[0])
        for y, value in zip(positions + (height / 2 if has_previous else 0), current, strict=True):
            ax.text(value, y, " " + fmt.integer(value), va="center", fontsize=7)
        ax.set_yticks(positions, labels)
        ax.xaxis.set_major_formatter(_value_formatter("integer", fmt))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color=GRID_COLOUR, linewidth=0.8)
        ax.set_title(title, loc="left")
        fig.tight_layout()
        return _finish(name, title, fig, style)
