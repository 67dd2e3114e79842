"""The explorer's figures as PNG bytes (matplotlib, no pyplot: safe from the page's threads), from the tables
views.py computes; the page shows these bytes and offers them as downloads."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

COLOURS = {"split": "#1f77b4", "cloud-only": "#ff7f0e", "device-only": "#2ca02c", "latency": "#d62728",
           "cloud": "#9467bd", "device": "#2ca02c", "transfer": "#17becf"}
SIZE = (6.4, 3.6)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (100 dpi)."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    return out.getvalue()


def step_bar(step: pd.DataFrame, title: str) -> bytes:
    """A decode step's parts (ms) as one stacked horizontal bar."""
    fig = Figure(figsize=(SIZE[0], 1.9))
    ax = fig.subplots()
    left = 0.0
    for part, ms, share in step[["part", "ms", "share"]].itertuples(index=False):
        ax.barh([0], [ms], left=left, color=COLOURS[part], label=f"{part} {ms:,.1f} ms ({share:.0%})")
        left += ms
    ax.set_yticks([])
    ax.set_xlabel("ms of one decode step")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=2, fontsize=8, frameon=False)
    return png(fig)


def rtt_chart(curves, kind: str) -> bytes:
    """Decode tok/s (kind "tokens_per_s") or device J/token ("j_per_token") against RTT, split, cloud-only and
    device-only, with the scenario's RTT and the break-even marked."""
    t = curves.table
    fig = Figure(figsize=SIZE)
    ax = fig.subplots()
    for server in ("split", "cloud-only", "device-only"):
        y = pd.to_numeric(t[f"{server.replace('-', '_')}_{kind}"], errors="coerce")
        if y.notna().any():
            label = f"device-only {curves.device_only_bits}-bit" if server == "device-only" else server
            ax.plot(t["rtt_ms"], y, color=COLOURS[server], label=label)
    mark = curves.break_even_ms if kind == "tokens_per_s" else curves.energy_break_even_ms
    if mark is not None:
        ax.axvline(mark, color="grey", ls="--", lw=1)
        ax.annotate(f"break-even {mark:,.1f} ms", (mark, 0.95), xycoords=("data", "axes fraction"), fontsize=8,
                    ha="left", va="top", xytext=(3, 0), textcoords="offset points")
    ax.axvline(curves.rtt_ms, color="black", lw=0.8, alpha=0.5)
    ax.set_yscale("log")
    ax.set_xlabel("RTT ms")
    ax.set_ylabel("decode tok/s" if kind == "tokens_per_s" else "device J a token")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return png(fig)


def plan_chart(table: pd.DataFrame, best: str | None) -> bytes:
    """The designs `plan` tried: time per token against device energy a token; the feasible filled, the Pareto
    front joined, the recommendation circled, the others hollow."""
    fig = Figure(figsize=(SIZE[0], 4.2))
    ax = fig.subplots()
    t = table.assign(energy=pd.to_numeric(table["device_energy_j_per_token"], errors="coerce").fillna(np.nan))
    t = t[t["energy"].notna()]
    out, ok = t[~t["feasible"]], t[t["feasible"]]
    ax.scatter(out["tpot_s"] * 1e3, out["energy"], facecolors="none", edgecolors="grey", label="out (see the table)")
    ax.scatter(ok["tpot_s"] * 1e3, ok["energy"], color=COLOURS["split"], label="feasible")
    front = ok[ok["pareto"]].sort_values("tpot_s")
    ax.plot(front["tpot_s"] * 1e3, front["energy"], color=COLOURS["split"], lw=1, label="Pareto front")
    for row in t[t["design"] == best].itertuples():
        ax.scatter([row.tpot_s * 1e3], [row.energy], s=220, facecolors="none", edgecolors="red", lw=2,
                   label="recommendation")
        ax.annotate(row.design, (row.tpot_s * 1e3, row.energy), fontsize=8, xytext=(8, 8), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("ms a token")
    ax.set_ylabel("device J a token")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return png(fig)


def capacity_chart(curve: pd.DataFrame, tpot_ms: float) -> bytes:
    """The most requests/s a GPU serves against the time-per-token target, split and cloud-only."""
    fig = Figure(figsize=SIZE)
    ax = fig.subplots()
    for server in ("split", "cloud-only"):
        ax.plot(curve["tpot_ms"], curve[f"{server.replace('-', '_')}_max_rate_per_s"], marker="o",
                color=COLOURS[server], label=server)
    ax.axvline(tpot_ms, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    top = float(np.nanmax(curve[["split_max_rate_per_s", "cloud_only_max_rate_per_s"]].to_numpy(dtype=float), initial=1.0))
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_ylim(0, top * 3)  # 0 (nothing served within the target) on the same axis as the rates
    ax.set_xlabel("target ms a token (p90)")
    ax.set_ylabel("max requests/s a GPU")
    ax.legend(fontsize=8, loc="center right")
    ax.grid(alpha=0.3)
    return png(fig)
