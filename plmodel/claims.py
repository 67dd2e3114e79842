"""The paper's claims checked against a study's results: each holds or does not, with the numbers.

- 7B throughput over 300 % of device-only (the fastest device-only precision that fits);
- 33B throughput over 80 % of the A100 serving it alone (the same cloud and runtime, cloud-only);
- energy efficiency: split costs the device less energy a token than device-only (7B).
Sources and thresholds live in plmodel/paperdata.
"""

from __future__ import annotations

import pandas as pd

from . import paperdata


def _device_only_tps(row) -> float:
    fits = [row[f"device_only_{b}bit_tokens_per_s"] for b in (3, 4) if row[f"device_only_{b}bit_fits"]]
    return max(fits) if fits else float("nan")


def claims_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row a (claim, network, mode) the study's decode results can answer."""
    dec = df[(df["phase"] == "decode") & (df["batch"] == 1)]
    rows = []
    for _, r in dec.iterrows():
        where = {"network": r["network"], "rtt_ms": r["rtt_s"] * 1e3, "mode": r["mode"]}
        if r["model"] == "llama-2-7b":
            ratio = r["tokens_per_s"] / _device_only_tps(r)
            rows.append({"claim": "7B over 300 % of device-only", **where, "value": f"{100 * ratio:.0f} %",
                         "holds": bool(ratio > paperdata.SPEEDUP_7B_OVER_DEVICE_ONLY_AT_LEAST)})
            split_j, own_j = r.get("device_energy_j_per_token"), r.get("device_only_energy_j_per_token")
            if pd.notna(split_j) and pd.notna(own_j):
                rows.append({"claim": "7B energy below device-only", **where,
                             "value": f"{split_j:.3f} vs {own_j:.3f} J/token", "holds": bool(split_j < own_j)})
        if r["model"] == "llama-33b":
            ratio = r["tokens_per_s"] / r["cloud_only_tokens_per_s"]
            rows.append({"claim": "33B over 80 % of the A100", **where, "value": f"{100 * ratio:.1f} %",
                         "holds": bool(ratio > paperdata.FRACTION_OF_A100_33B_AT_LEAST)})
    return pd.DataFrame(rows)


def claims_markdown(df: pd.DataFrame) -> list:
    """REPORT.md lines: the claims table, or nothing when the study cannot answer any claim."""
    from .tables import markdown

    table = claims_table(df)
    if table.empty:
        return []
    held = table.groupby("claim")["holds"].agg(["sum", "count"])
    summary = "; ".join(f"{claim}: holds on {int(s)} of {int(c)} links" for claim, (s, c) in held.iterrows())
    return ["## The paper's claims", "", f"{summary}.", "", markdown(table.assign(holds=table["holds"].map(
        {True: "holds", False: "does not hold"}))), ""]
