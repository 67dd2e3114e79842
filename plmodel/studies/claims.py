"""The paper's claims checked against a study's results: each holds or does not, with the numbers.

- 7B throughput over 300 % of device-only (the fastest device-only precision that fits);
- 33B throughput over 80 % of the A100 serving it alone (the same cloud and runtime, cloud-only);
- energy efficiency: split costs the device less energy a token than device-only (7B).
Sources and thresholds live in plmodel/paperdata.
"""

from __future__ import annotations

import pandas as pd

from plmodel import paperdata
from plmodel.studies.tables import markdown


def _device_only_tps(d: pd.DataFrame) -> pd.Series:
    """Decode tokens/s of the fastest device-only precision that fits (NaN where none does)."""
    fits = [d[f"device_only_{b}bit_tokens_per_s"].where(d[f"device_only_{b}bit_fits"].astype(bool)) for b in (3, 4)]
    return pd.concat(fits, axis=1).max(axis=1)


#: Percentage points from a claim's threshold within which a value that misses it is "at the boundary".
BOUNDARY_PP = 0.1


def _rows(claim: str, d: pd.DataFrame, value: pd.Series, holds: pd.Series, unit: str, digits: int = 0, *,
          threshold: float | None = None) -> pd.DataFrame:
    """A claim's rows: one a (network, RTT, mode), the value's range over its points and how many hold; a
    value that misses `threshold` (in the value's unit) by under BOUNDARY_PP is said to be at the boundary."""
    t = pd.DataFrame({"network": d["network"], "rtt_ms": d["rtt_s"] * 1e3, "mode": d["mode"], "v": value,
                      "h": holds.astype(bool)})
    g = t.groupby(["network", "rtt_ms", "mode"], sort=False).agg(lo=("v", "min"), hi=("v", "max"), held=("h", "sum"),
                                                                  points=("h", "size")).reset_index()
    g["value"] = [(f"{lo:.{digits}f}" if f"{lo:.{digits}f}" == f"{hi:.{digits}f}" else f"{lo:.{digits}f} to {hi:.{digits}f}")
                  + unit for lo, hi in zip(g["lo"], g["hi"])]
    near = [threshold is not None and abs(hi - threshold) < BOUNDARY_PP for hi in g["hi"]]
    g["holds"] = [("holds" if k == n else ("at the boundary, not above it" if b else "does not hold") if k == 0
                   else f"holds on {k} of {n}") for k, n, b in zip(g["held"], g["points"], near)]
    return g.assign(claim=claim)[["claim", "network", "rtt_ms", "mode", "value", "points", "held", "holds"]]


def claims_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row a (claim, network, RTT, mode) the study's decode results at batch 1 can answer: the value's
    range over the points there (ranks, prompts, ...) and on how many of them the claim holds."""
    dec = df[(df["phase"] == "decode") & (df["batch"] == 1)]
    parts = []
    d = dec[dec["model"] == "llama-2-7b"]
    if len(d):
        ratio = d["tokens_per_s"] / _device_only_tps(d)
        parts.append(_rows("7B over 300 % of device-only", d, 100 * ratio,
                           ratio > paperdata.SPEEDUP_7B_OVER_DEVICE_ONLY_AT_LEAST, " %"))
        if "device_energy_j_per_token" in d:
            e = d[d["device_energy_j_per_token"].notna() & d["device_only_energy_j_per_token"].notna()]
            share = e["device_energy_j_per_token"] / e["device_only_energy_j_per_token"]
            if len(e):
                parts.append(_rows("7B energy below device-only", e, 100 * share, share < 1,
                                   " % of device-only's J/token"))
    d = dec[dec["model"] == "llama-33b"]
    if len(d):
        ratio = d["tokens_per_s"] / d["cloud_only_tokens_per_s"]
        parts.append(_rows("33B over 80 % of the A100", d, 100 * ratio, ratio > paperdata.FRACTION_OF_A100_33B_AT_LEAST,
                           " %", 2, threshold=100 * paperdata.FRACTION_OF_A100_33B_AT_LEAST))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def claims_markdown(df: pd.DataFrame) -> list:
    """REPORT.md lines: the claims table, or nothing when the study cannot answer any claim."""

    table = claims_table(df)
    if table.empty:
        return []
    held = table.groupby("claim", sort=False)[["held", "points"]].sum()
    summary = "; ".join(f"{claim}: holds on {int(h)} of {int(n)} points" for claim, (h, n) in held.iterrows())
    return ["## The paper's claims", "", "Decode at batch 1; a row a network, RTT and mode, over the other axes' "
            f"points there. {summary}.{_boundary_sentence(table)}", "", markdown(table.drop(columns="held")), ""]


def _boundary_sentence(table: pd.DataFrame) -> str:
    """A sentence for each claim whose paper-mode value sits at its boundary, beside its realistic values."""
    out = ""
    for claim, rows in table.groupby("claim", sort=False):
        paper = rows[(rows["mode"] == "paper") & (rows["holds"] == "at the boundary, not above it")]
        real = rows[rows["mode"] == "realistic"]
        if len(paper):
            out += (f" {claim}: in the paper's own accounting it is {paper['value'].iloc[0]}, at the claim's "
                    "boundary rather than over it" + (f"; in the realistic accounting it is refuted ({real['value'].iloc[0]} "
                    f"at {real['rtt_ms'].iloc[0]:g} ms RTT on {real['network'].iloc[0]}, "
                    f"{real['holds'].eq('does not hold').sum()} of {len(real)} settings miss it)" if len(real) else "") + ".")
    return out
