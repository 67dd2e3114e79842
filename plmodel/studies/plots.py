"""Figures: each function takes tables (or a trace) and returns a matplotlib Figure; the caller saves.

Figures are built with the object-oriented API (no pyplot state), so they work in scripts, reports
and notebooks alike.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from plmodel.studies.facets import thin, view
from plmodel.studies.tables import x_axis

#: Plain tick labels ("1,024" rather than mathtext "2^10"): easier to read and far cheaper to draw.
PLAIN = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")

PHASE_X = {"prefill": "tokens in mini-batch", "decode": "batch size"}


def save(fig: Figure, stem, dpi: int = 90) -> None:
    """`stem`.png and `stem`.svg (vector), the SVG without a date and with fixed element ids, so a
    rerun that draws the same figure writes the same file."""
    import matplotlib

    fig.savefig(f"{stem}.png", dpi=dpi)
    with matplotlib.rc_context({"svg.hashsalt": "plmodel"}):
        fig.savefig(f"{stem}.svg", metadata={"Date": None})


def _figure(width: float, height: float, **margins) -> Figure:
    """A Figure with fixed margins (a layout engine would cost more than the drawing)."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(**{"left": 0.08, "right": 0.98, "bottom": 0.13, "top": 0.9, "wspace": 0.25, **margins})
    return fig


def _caption(fig: Figure, v) -> Figure:
    """The axes a figure holds fixed (facets.View), along its bottom edge."""
    if v.caption():
        fig.text(0.005, 0.005, v.caption(), fontsize=7, color="dimgray", va="bottom")
    return fig


def throughput(df, model: str, paper_points: list | None = None) -> Figure:
    """Tokens/s against tokens in mini-batch (prefill) and batch size (decode), a line per rank;
    the paper's points as markers where given."""
    fig = _figure(10, 4)
    d = thin(df[(df["model"] == model) & (df["rank_c2d"] == df["rank_d2c"])], "rank_c2d").assign(x=x_axis)
    for ax, phase in zip(fig.subplots(1, 2), ("prefill", "decode")):
        v = view(d[d["phase"] == phase], ("model", "rank_c2d", "rank_d2c") + (("batch", "prompt_tokens") if phase ==
                                                                               "prefill" else ("batch",)), panels=False)
        p = v.df
        for i, (rank, g) in enumerate(p.groupby("rank_c2d")):
            g = g.sort_values("x")
            line, = ax.plot(g["x"], g["tokens_per_s"], label=f"r={rank}", color=f"C{i}")
            if paper_points:
                ref = [pt for pt in paper_points if pt["phase"] == phase and pt["rank"] == rank]
                ax.plot([pt["x"] for pt in ref], [pt["tokens_per_s"] for pt in ref], "o", mfc="none",
                        color=line.get_color(), ms=5)
        if len(p):
            dev = p.groupby("x")["device_only_4bit_tokens_per_s"].first()
            ax.axhline(dev.iloc[0], color="gray", ls="--", label="device only, 4 bit")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set(xlabel=PHASE_X[phase], ylabel="tokens/s", title=f"{model} {phase}")
        ax.grid(alpha=0.3)
        if v.held:
            ax.text(0.01, 0.01, v.caption(), transform=ax.transAxes, fontsize=7, color="dimgray")
    ax.legend(fontsize=8, title="lines: plmodel" + ("; o: paper" if paper_points else ""), title_fontsize=8)
    return fig


def device_cost(df, rank: int | None = None) -> Figure:
    """Device memory (MB) and GFLOP per token under PrivateLoRA against the whole model at 3 and 4 bit."""
    d = df[df["phase"] == "decode"]
    rank = rank or (128 if (d["rank_c2d"] == 128).any() else int(d["rank_c2d"].iloc[0]))
    v = view(d[(d["rank_c2d"] == rank) & (d["rank_d2c"] == rank)], ("model", "rank_c2d", "rank_d2c"), panels=False)
    d = v.df.groupby("model", sort=False).first()
    fig = _figure(10, 4, wspace=0.3)
    ax_mem, ax_flop = fig.subplots(1, 2)
    x, w = np.arange(len(d)), 0.27
    bars = [("PrivateLoRA, LM head + M (16 bit)", d["device_matmul_weight_bytes"], d["device_flop_per_token"]),
            ("device only, 3 bit", d["device_only_3bit_memory_bytes"], d["device_only_flop_per_token"]),
            ("device only, 4 bit", d["device_only_4bit_memory_bytes"], d["device_only_flop_per_token"])]
    for i, (label, mem, flop) in enumerate(bars):
        ax_mem.bar(x + (i - 1) * w, mem / 1e6, w, label=label)
        ax_flop.bar(x + (i - 1) * w, flop / 1e9, w, label=label)
    for ax, unit in ((ax_mem, "memory on the device (MB)"), (ax_flop, "GFLOP per token on the device")):
        ax.set_xticks(x, d.index)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PLAIN)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set(ylabel=unit, title=f"{unit.split(' (')[0]}, rank {rank}")
        ax.grid(alpha=0.3, axis="y")
    ax_mem.legend(fontsize=8)
    return _caption(fig, v)


def rtt_sensitivity(df) -> Figure:
    """Decode tokens/s against RTT, a line per model and rank, with the device-only line and the
    break-even RTT marked."""
    v = view(thin(df[df["phase"] == "decode"], "rank_c2d").assign(rtt_ms=lambda t: t["rtt_s"] * 1e3),
             ("rtt_s", "model", "rank_c2d", "rank_d2c"))
    panels = v.panels()
    fig = _figure(6 * len(panels) + 1, 4.5, left=0.11 / len(panels))
    for ax, (where, d) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        _rtt_panel(ax, d, where)
    return _caption(fig, v)


def _rtt_panel(ax, d, where: str) -> None:
    for i, ((model, rank), g) in enumerate(d.groupby(["model", "rank_c2d"])):
        g = g.sort_values("rtt_ms")
        color = f"C{i % 10}"
        ax.plot(g["rtt_ms"], g["tokens_per_s"], "-o", ms=3, color=color, label=f"{model} r={rank}")
        be = g["break_even_rtt_s"].iloc[0] * 1e3
        dev = g["device_only_4bit_tokens_per_s"].iloc[0]
        if be > 0:
            ax.plot([be], [dev], "x", color=color, ms=9, mew=2)
    for j, (model, g) in enumerate(d.groupby("model")):
        ax.axhline(g["device_only_4bit_tokens_per_s"].iloc[0], color="gray", ls=("--", ":", "-.")[j % 3], lw=1,
                   label=f"{model} device only, 4 bit")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("log")
    ax.set_xlim(left=0)
    ax.set_xticks(sorted(d["rtt_ms"].unique()))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PLAIN)
        axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set(xlabel="round-trip time (ms)", ylabel="decode tokens/s per sequence",
           title="Latency sensitivity (x: break-even RTT against device only)" + (f", {where}" if where else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def networks(df, column: str = "network") -> Figure:
    """Decode and prefill tokens/s a bar a network (or a device: `column`), with the device-only (4 bit) and
    cloud-only speeds there as markers."""
    v = view(df, (column, "model") + (("rtt_s",) if column == "network" else ()), panels=False)
    fig = _figure(10, 0.45 * df[column].nunique() + 1.6, left=0.17, wspace=0.5)
    for ax, phase in zip(fig.subplots(1, 2), ("decode", "prefill")):
        d = v.df[v.df["phase"] == phase].groupby(column, sort=False).first()
        ax.barh(d.index, d["tokens_per_s"], color="C0", label="split, PrivateLoRA")
        ax.plot(d["device_only_4bit_tokens_per_s"], d.index, "|", ms=14, mew=2, color="dimgray",
                label="device only, 4 bit")
        ax.plot(d["cloud_only_tokens_per_s"], d.index, "x", ms=7, mew=2, color="C2", label="cloud only")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.invert_yaxis()
        ax.set(xlabel=f"{phase} tokens/s", title=f"{df['model'].iloc[0]} {phase}")
        ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8)
    return _caption(fig, v)


def timeline(trace: dict, process: str = "user 0", window: tuple | None = None) -> Figure:
    """One token's path from a simulation trace: device, links and cloud GPU as lanes.

    `window` (start_s, end_s) picks the time span; by default the last decode step of `process`.
    """
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    pids = {e["args"]["name"]: e["pid"] for e in trace["traceEvents"] if e["name"] == "process_name"}
    mine = [e for e in events if e["pid"] == pids[process]]
    if window is None:
        heads = [e for e in mine if e["name"] == "embeddings"]
        start = heads[-1]["ts"]
        window = (start / 1e6, max(e["ts"] + e["dur"] for e in mine) / 1e6)
    lanes = [("device", pids[process], "device"), ("link c2d", pids[process], "link c2d (down)"),
             ("link d2c", pids[process], "link d2c (up)"), ("gpu", pids.get("cloud"), "cloud GPU")]
    fig = _figure(11, 3.2, left=0.13, bottom=0.17, top=0.88)
    ax = fig.subplots()
    lo, hi = window[0] * 1e3, window[1] * 1e3
    for row, (cat, pid, label) in enumerate(lanes):
        spans = [((e["ts"] / 1e3), e["dur"] / 1e3) for e in events if e["cat"] == cat and e["pid"] == pid
                 and e["ts"] / 1e3 < hi and (e["ts"] + e["dur"]) / 1e3 > lo]
        ax.broken_barh(spans, (row - 0.35, 0.7), color=f"C{row}")
    ax.set_yticks(range(len(lanes)), [label for *_, label in lanes])
    ax.set_xlim(lo, hi)
    ax.invert_yaxis()
    ax.set(xlabel="time (ms)", title=f"one decode step of {process}: every layer waits for its round trip")
    ax.grid(alpha=0.3, axis="x")
    return fig


def energy_per_token(df, model: str = "llama-2-7b", column: str = "network") -> Figure:
    """Device energy a token (J, log scale) for split, device-only and cloud-only on each network (or device:
    `column`; realistic mode, decode)."""
    v = view(df[(df["model"] == model) & (df["mode"] == "realistic") & (df["phase"] == "decode")],
             (column, "model", "mode") + (("rtt_s",) if column == "network" else ()), panels=False)
    d = v.df[v.df["device_energy_j_per_token"].notna()].drop_duplicates(column)  # those with power figures
    fig = _figure(9, 0.5 * len(d) + 1.8, left=0.2)
    ax = fig.add_subplot(1, 1, 1)
    y = range(len(d))
    for k, (col, label) in enumerate((("device_energy_j_per_token", "split, PrivateLoRA"),
                                      ("device_only_energy_j_per_token", "device only"),
                                      ("cloud_only_device_energy_j_per_token", "cloud only"))):
        ax.barh([i + 0.27 * (k - 1) for i in y], d[col], height=0.27, color=f"C{k}", label=label)
    names = [f"{n} ({r * 1e3:.0f} ms)" for n, r in zip(d["network"], d["rtt_s"])] if column == "network" else d[column]
    ax.set_yticks(list(y), names)
    ax.set_xscale("log")
    ax.set_xlabel("device energy per generated token (J), log scale")
    ax.set_title(f"{model}, rank {int(d['rank_c2d'].iloc[0])}: energy on the device"
                 + (" (network, RTT)" if column == "network" else f" by {column}"))
    ax.legend(loc="lower right", fontsize=8)
    return _caption(fig, v)


def fleet_capacity(df) -> Figure:
    """Requests a second a GPU carries within each target (log scale), split against cloud-only, a panel
    a target."""
    targets = sorted(df["tpot_slo_s"].unique())
    fig = _figure(5.2 * len(targets), 0.32 * df.groupby(["model", "network"]).ngroups + 2.0, left=0.24,
                  wspace=0.6)
    for i, t in enumerate(targets):
        d = df[df["tpot_slo_s"] == t]
        ax = fig.add_subplot(1, len(targets), i + 1)
        keys = list(d.groupby(["model", "network"], sort=False).groups)
        for k, server in enumerate(("split", "cloud-only")):
            s = d[d["server"] == server].set_index(["model", "network"]).reindex(keys)
            ax.barh([j + 0.4 * (k - 0.5) for j in range(len(keys))], s["requests_per_s_per_gpu"].clip(lower=0.01), height=0.4,
                    color=f"C{k}", label=server)
        ax.set_yticks(range(len(keys)), [f"{m}, {n}" for m, n in keys], fontsize=8)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(PLAIN)
        ax.set_xlabel("requests a second a GPU (0.01 = none)")
        ax.set_title(f"time per token <= {t * 1e3:g} ms", fontsize=10)
        ax.invert_yaxis()
        if i == 0:
            ax.legend(loc="lower right", fontsize=8)
    return fig


def fleet_load(df) -> Figure:
    """Time per output token (p90) and throughput against the load (users, or a Poisson rate), a line a
    model and server."""
    x = "rate_per_s" if df["arrival"].eq("poisson").all() else "users"
    v = view(df, (x, "model", "server", "rate_per_s", "users", "arrival", "tpot_slo_s", "ttft_slo_s"))
    fig = _figure(11, 4.2, wspace=0.3)
    for ax, (col, scale, label) in zip(fig.subplots(1, 2), (("tpot_p90_s", 1e3, "time per output token, p90 (ms)"),
                                                            ("throughput_tokens_per_s", 1, "throughput (tokens/s)"))):
        lines = [(f"{m}{', ' + where if where else ''}", server, g) for where, rows in v.panels()
                 for (m, server), g in rows.groupby(["model", "server"], sort=False)]  # a panel's lines share a color
        colors = {name: f"C{i % 10}" for i, name in enumerate(dict.fromkeys(n for n, _, _ in lines))}
        for name, server, g in lines:
            g = g.sort_values(x)
            ax.plot(g[x], g[col] * scale, "-o" if server == "split" else "--s", ms=3, color=colors[name],
                    label=f"{name} {server}")
        ax.set(xlabel="requests a second" if x == "rate_per_s" else "users (closed loop)", ylabel=label)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PLAIN)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _caption(fig, v)
