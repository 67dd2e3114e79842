"""A study's uncertainty section (a sweep config's `uncertainty: N`): for each realistic point whose device has
power figures, the energy verdict at the phone's screen-on baseline's ends and at 1.0 W, the spread of the
break-even RTTs and the verdicts' shares over N samples of every range (analysis/uncertainty.py), and a
tornado figure, for the point whose energy verdict is nearest an even split, of which figure moves each
verdict most (one range at a time to its ends)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from plmodel.analysis import uncertainty
from plmodel.analysis.estimate import estimate
from plmodel.io.scenario_ranges import scenario_ranges
from plmodel.studies.plots import save
from plmodel.studies.sweep_vector import blocks
from plmodel.studies.tables import markdown
from plmodel.vectors import point

#: A round baseline between ARO's screen-on 0.6 W and the S20 Ultra's 2.3 W, at which issue 24 read the verdict (W).
MIDDLE_BASELINE_W = 1.0


def scenarios(cfg) -> list:
    """The study's realistic points whose device has power figures, each once, as scenarios of their own."""
    out, seen = [], set()
    for grid in cfg.grids:
        for block in blocks(grid):
            scn = block.scenario
            if scn.mode != "realistic" or scn.device.power is None or scn.designs:
                continue
            for i in range(len(block.order)):
                s = point(scn, i)
                key = (s.model.name, s.adapter, s.device.name, s.cloud.name, s.link.name, s.link.rtt_s, s.batch, s.prompt_tokens)
                if key not in seen:
                    seen.add(key)
                    out.append(s)
    return out


def _baseline_range(params: list):
    return next((p for p in params if p.owner == "device" and p.path == "power.baseline_w"), None)


def at_baselines(scn, baselines: tuple) -> list:
    """[(baseline W, energy break-even RTT s or None, whether split uses less energy than device-only, None where
    no device-only precision fits)] at each baseline."""
    out = []
    for b in baselines:
        s = replace(scn, device=replace(scn.device, power=replace(scn.device.power, baseline_w=b)))
        f = estimate(s, 128, with_cost=False).flat()
        own = f["device_only_energy_j_per_token"]  # None: no device-only precision fits, nothing to compare with
        less = None if own is None else bool(f["device_energy_j_per_token"] < own)
        out.append((b, f["energy_break_even_rtt_s"], less))
    return out


def _ms(v) -> str:
    return "-" if v is None or v != v else f"{v * 1e3:.1f}"


def row(scn, n: int, seed: int) -> tuple:
    """(table row, summary, tornado) of one point."""
    params = scenario_ranges(scn)
    s = uncertainty.run(scn, params, n, seed)
    br = _baseline_range(params)
    probes = at_baselines(scn, (br.low, MIDDLE_BASELINE_W, br.value) if br else ())
    cells = {f"at {b:g} W: break-even ms, split less energy": "-" if less is None else f"{_ms(rtt)}, {'yes' if less else 'no'}"
             for b, rtt, less in probes}
    share = s["split_less_energy_than_device_only_share"]
    r = {"model": scn.model.name, "network": scn.link.name, "rtt_ms": round(scn.link.rtt_s * 1e3, 2), **cells,
         "energy break-even ms p5 / p50 / p95": " / ".join(_ms(s[f"energy_break_even_rtt_s_{q}"]) for q in ("p5", "p50", "p95")),
         "split less energy, share": "-" if share is None else f"{100 * share:.0f} %",
         "split faster than device-only, share": "-" if s["split_faster_than_device_only_share"] is None
         else f"{100 * s['split_faster_than_device_only_share']:.0f} %"}
    return r, s, params


def tornado_figure(swings: dict, params: list, title: str):
    """The tornado: a panel a verdict's measure, a bar a range from its low end's value to its high end's."""
    from matplotlib.figure import Figure

    keys = [k for k in uncertainty.TORNADO if k[0] in swings]
    fig = Figure(figsize=(11, 2.2 + 0.9 * len(keys) * 2))
    for ax, (key, label, unit, scale) in zip(fig.subplots(len(keys), 1), keys, strict=True):
        at, sw = swings[key]
        sw = [x for x in sw if x[1] == x[1] and x[2] == x[2]][:6][::-1]
        y = np.arange(len(sw))
        lo, hi = np.array([x[1] for x in sw]) / scale, np.array([x[2] for x in sw]) / scale
        ax.barh(y, hi - at / scale, left=at / scale, color="#d62728", label="at the range's high end")
        ax.barh(y, lo - at / scale, left=at / scale, color="#1f77b4", label="at the range's low end")
        ax.axvline(at / scale, color="black", lw=1)
        if key.startswith("split_to_"):  # the verdict flips where split and device-only are equal
            ax.axvline(1.0, color="grey", lw=1, ls="--")
        ax.set_yticks(y, [x[0] for x in sw], fontsize=8)
        ax.set_title(f"{label}{' (' + unit + ')' if unit else ''}: {at / scale:.3g} at the figures", fontsize=9)
    fig.axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def section(folder, cfg) -> list:
    """The markdown lines of the study's uncertainty section (and tornado.png/svg in `folder`); none where the
    config asks for no samples or no point has power figures."""
    n, seed = cfg.grids[0].settings.get("uncertainty", 0), cfg.grids[0].settings["seed"]
    points = scenarios(cfg) if n else []
    if not points:
        return []
    rows = [row(s, n, seed) for s in points]
    knife = min(range(len(rows)), key=lambda i: abs((rows[i][1]["split_less_energy_than_device_only_share"] or 0) - 0.5))
    scn, params = points[knife], rows[knife][2]
    save(tornado_figure(uncertainty.tornado(scn, params), params,
                        f"{scn.model.name} on {scn.link.name}: one range at a time to its ends"), f"{folder}/tornado")
    return ["## How far the energy verdict could move", "",
            f"Every [U] or [D] figure of the profiles and runtimes carries a range (`*_range` keys, `runtimes.RANGES`); "
            f"{n} Latin-hypercube samples of all of them (seed {seed}) give the spread below. The phone's screen-on "
            "baseline is the least certain figure the energy verdict reads: the device profile's (the S20 Ultra's "
            "non-radio baseline, SIGCOMM'21), ARO's screen-on power at the range's low end, and "
            f"{MIDDLE_BASELINE_W:g} W between them. A lower baseline favours split, whose answer takes longer but "
            "keeps the SoC idle while it waits, so its energy break-even RTT grows as the baseline falls.", "",
            markdown(pd.DataFrame([r for r, _, _ in rows])), "",
            "A dash: no device-only precision fits the device, so there is no energy verdict to move.", "",
            knife_sentence(scn, rows[knife]), "", "![tornado](tornado.png)", "",
            f"The tornado is of {scn.model.name} on {scn.link.name}, the point whose energy verdict is nearest an even "
            "split: each bar is one range swung to its ends, the others at their figures (six largest a panel).", ""]


def knife_sentence(scn, r: tuple) -> str:
    """The verdict at the knife-edge point in words, from its row."""
    table, summary, _ = r
    probes = [(k.split(" ")[1], v) for k, v in table.items() if k.startswith("at ")]
    said = "; ".join(f"{v.split(', ')[0]} ms at {b} W (split {'uses less' if v.endswith('yes') else 'uses more'} "
                     "energy than device-only at the link's RTT)" for b, v in probes if v != "-")
    share = summary["split_less_energy_than_device_only_share"]
    return (f"{scn.model.name} on {scn.link.name} (RTT {scn.link.rtt_s * 1e3:g} ms): split's energy break-even RTT is "
            f"{said}. Over every range split uses less energy than the phone alone in "
            f"{100 * (share or 0):.0f} % of the samples" + (": the ranges, not the figures, decide the verdict." if 0 < (share or 0) < 1
                                                             else "."))
