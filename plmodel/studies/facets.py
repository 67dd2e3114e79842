"""Which rows a figure draws: the axes it shows (its x and its lines) kept, one more varying axis with
few values as panels side by side, and every other varying axis held at one value that the figure
names - so no figure draws a zig-zag through axes it does not show, or silently takes a first row."""

from __future__ import annotations

from dataclasses import field

import pandas as pd

from plmodel.frozen import frozen

#: The input columns of a study's records (sweep axes), in the order a figure names them.
INPUTS = ("model", "device", "network", "cloud", "mode", "targets", "layers", "rank_c2d", "rank_d2c", "batch", "prompt_tokens",
          "rtt_s", "act_bits", "cloud_bits", "device_bits", "device_layers_first", "device_layers_last", "servers",
          "prefill_chunks", "draft_model", "draft_tokens", "acceptance")
#: The most panels a figure shows side by side.
PANEL_MAX = 4
LABEL = {"rtt_s": ("RTT", 1e3, " ms"), "prompt_tokens": ("prompt", 1, " tokens"), "rank_c2d": ("r_c2d", 1, ""),
         "rank_d2c": ("r_d2c", 1, "")}


def label(column: str, value) -> str:
    """'batch 4', 'RTT 20 ms', 'network 5g-edge'."""
    name, scale, unit = LABEL.get(column, (column.replace("_", " "), 1, ""))
    shown = f"{value * scale:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
    return f"{name} {shown}{unit}"


@frozen
class View:
    """The rows a figure draws, the column its panels split on (None: one panel) and the held values."""

    df: pd.DataFrame
    panel: str | None = None
    held: dict = field(default_factory=dict)

    def panels(self) -> list:
        """[(title suffix, rows)] a panel."""
        if self.panel is None:
            return [("", self.df)]
        return [(label(self.panel, v), g) for v, g in self.df.groupby(self.panel, sort=False)]

    def caption(self) -> str:
        """What the figure holds fixed, for its bottom line ('' when nothing varies unseen)."""
        return "held fixed: " + ", ".join(label(c, v) for c, v in self.held.items()) if self.held else ""


def view(df: pd.DataFrame, keep: tuple, panels: bool = True) -> View:
    """The View of `df` for a figure showing the columns in `keep`: the first other varying input with at
    most PANEL_MAX values becomes the panels (where `panels`), and the rest are held at their first value
    (the smallest number, or the first name in the table)."""
    varying = [c for c in INPUTS if c in df and c not in keep and df[c].nunique(dropna=False) > 1]
    panel = next((c for c in varying if df[c].nunique(dropna=False) <= PANEL_MAX), None) if panels else None
    held, rows = {}, df
    for c in varying:
        spread = rows.groupby(panel, dropna=False)[c].nunique(dropna=False).max() if panel else rows[c].nunique(dropna=False)
        if c == panel or spread <= 1:  # the panels, or an axis that follows them (a network's own RTT)
            continue
        col = rows[c]
        value = col.min() if pd.api.types.is_numeric_dtype(col) and col.notna().all() else col.iloc[0]
        held[c] = value
        rows = rows[col.isna()] if pd.isna(value) else rows[col == value]
    return View(rows, panel, held)


def thin(df: pd.DataFrame, column: str, at_most: int = 6) -> pd.DataFrame:
    """The rows at no more than `at_most` values of `column`, evenly spread over its sorted values (the
    first and last kept): a figure's lines stay legible however many values a study swept."""
    values = sorted(df[column].unique())
    if len(values) <= at_most:
        return df
    import numpy as np

    kept = [values[i] for i in sorted(set(np.linspace(0, len(values) - 1, at_most).round().astype(int)))]
    return df[df[column].isin(kept)]
