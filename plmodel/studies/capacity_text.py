"""The words of a capacity study's REPORT.md beyond its main table: the replica sizes tried and what each
costs, and how the split/cloud-only verdict moves with the KV cache's bytes a token (MHA against GQA). Every
figure is read from the study's records (capacity_study.study_row); nothing is typed in."""

from __future__ import annotations

import math

GROUPS = (1, 2, 4, 8)


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def size_cell(r, n: int) -> str:
    """One replica size of a record: requests/s a GPU, USD per million output tokens / per million tokens,
    what binds; bold where chosen; '' where not tried."""
    rate = _num(r.get(f"replica_{n}_requests_per_s_per_gpu"))
    if rate is None:
        return ""
    out, both = (_num(r.get(f"replica_{n}_usd_per_million_{k}")) for k in ("output_tokens", "tokens"))
    usd = "-" if out is None else f"{out:,.3f} / {both:,.3f} USD"
    cell = f"{rate:,.2f} req/s a GPU, {usd} ({r.get(f'replica_{n}_binding_limit')})"
    return f"**{cell}**" if r["gpus_a_replica"] == n else cell


def loosest(df):
    """The records at the loosest time-per-token target."""
    return df[df["tpot_slo_s"] == df["tpot_slo_s"].max()]


def replica_lines(df, markdown) -> list:
    """The sizes tried at the loosest target: cloud-only once a model (the network barely moves it), split at each
    network; and, a model, what the chosen size gains against the smallest."""
    import pandas as pd

    d = loosest(df)
    keep = [r for _, r in d.iterrows() if r["server"] == "split" or r["network"] == d["network"].iloc[0]]
    rows = [{"model": r["model"], "server": r["server"], "network": r["network"] if r["server"] == "split" else "any",
             **{f"{n} GPU{'s' if n > 1 else ''}": size_cell(r, n) for n in GROUPS}} for r in keep]
    lines = ["## Replica size", "",
             f"At {d['tpot_slo_s'].iloc[0] * 1e3:g} ms a token, each tensor-parallel group a replica can be (the "
             "weights and one request's KV cache fit, the heads divide), by the closed forms: requests a second a "
             "GPU, USD per million output tokens / per million tokens, what binds; the chosen (lowest cost a token) "
             "in bold. A larger group gives the KV cache all the memory beyond one copy of the weights and reads a "
             "smaller share of them a GPU, and pays two all-reduces a layer.", "", markdown(pd.DataFrame(rows)), ""]
    return lines + [f"- {s}" for s in gains(keep)] + [""]


def gains(rows) -> list:
    """A sentence a (model, server) whose chosen size is not the smallest: what it gains a GPU and a token."""
    out = []
    for r in rows:
        tried = [n for n in GROUPS if _num(r.get(f"replica_{n}_requests_per_s_per_gpu")) is not None]
        small, chosen = tried[0], int(r["gpus_a_replica"])
        a, b = (_num(r.get(f"replica_{n}_requests_per_s_per_gpu")) for n in (small, chosen))
        ua, ub = (_num(r.get(f"replica_{n}_usd_per_million_output_tokens")) for n in (small, chosen))
        if chosen == small or not a or ua is None or ub is None:
            continue
        where = "" if r["server"] == "cloud-only" else f" at {r['network']}"
        out.append(f"{r['model']} {r['server']}{where}: {chosen} GPUs a replica serve {b / a - 1:+.0%} requests a "
                   f"second a GPU against {small} ({b:,.2f} against {a:,.2f}; {small} bound by "
                   f"{r.get(f'replica_{small}_binding_limit')}), at {ub / ua - 1:+.0%} the cost a token "
                   f"({ub:,.3f} against {ua:,.3f} USD per million output tokens).")
    return out


def kv_findings(df) -> list:
    """How the verdict depends on the KV bytes a token: a model's KV a token, what each server carries a GPU and
    the gap at each network (the loosest target)."""
    d = loosest(df)
    kv = d.groupby("model", sort=False)["kv_bytes_per_token"].max().sort_values()
    lines = ["## The verdict and the KV cache a token", "",
             "KV cache a token (every layer's K and V, 16-bit): " + ", ".join(f"{m} {v / 1e3:,.0f} KB" for m, v in kv.items())
             + ". Grouped-query attention (GQA: fewer KV heads than query heads) shrinks it by their ratio. "
             "Split needs many requests in flight to keep the GPU busy while each waits for its round trips, so "
             "where KV memory binds it, fewer bytes a token let a replica hold more of them; cloud-only gains only up "
             "to its batch cap (the most sequences an iteration), which a GQA model's cache already holds. At "
             f"{d['tpot_slo_s'].iloc[0] * 1e3:g} ms a token:", ""]
    for model in kv.index:
        parts = []
        for network, n in d[d["model"] == model].groupby("network", sort=False):
            s, c = (n[n["server"] == k].iloc[0] for k in ("split", "cloud-only"))
            gap = (f"cloud-only {c['requests_per_s_per_gpu'] / s['requests_per_s_per_gpu']:,.1f}x split"
                   if s["max_rate_per_s"] > 0 else "split serves nothing")
            parts.append(f"{network}: {gap} (split {s['max_users'] / s['gpus_a_replica']:,.0f} users in flight a GPU, "
                         f"{s['binding_limit']}; cloud-only {c['max_users'] / c['gpus_a_replica']:,.0f}, "
                         f"{c['binding_limit']})")
        r = d[d["model"] == model].iloc[0]
        attention = "MHA" if r["kv_heads"] == r["heads"] else f"GQA, {r['kv_heads']} KV heads for {r['heads']}"
        lines.append(f"- {model} ({attention}; {kv[model] / 1e3:,.0f} KB a token): " + "; ".join(parts) + ".")
    return lines
