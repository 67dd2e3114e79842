"""Records -> pandas DataFrames with unit-suffixed columns, and the summaries reports print."""

from __future__ import annotations

import pandas as pd

FIRST = ["model", "rank_c2d", "rank_d2c", "targets", "phase", "batch", "prompt_tokens", "cloud", "device", "network",
         "rtt_s", "mode", "engine", "tokens_per_s"]


def to_frame(records: list) -> pd.DataFrame:
    """A tidy table: one row a point, the identifying columns first."""
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(records)
    return df[[c for c in FIRST if c in df.columns] + [c for c in df.columns if c not in FIRST]]


def x_axis(df: pd.DataFrame) -> pd.Series:
    """The paper's x: tokens in the mini-batch (prefill) or the batch size (decode)."""
    return (df["batch"] * df["prompt_tokens"]).where(df["phase"] == "prefill", df["batch"])


def paper_comparison(df: pd.DataFrame, paper_points: list) -> pd.DataFrame:
    """Rows of the 7B figure beside ours: phase, rank, x, paper and plmodel tokens/s, relative error."""
    ours = df[df["model"] == "llama-2-7b"].assign(x=x_axis)
    ours = ours[ours["rank_c2d"] == ours["rank_d2c"]][["phase", "rank_c2d", "x", "tokens_per_s"]]
    ref = pd.DataFrame(paper_points).rename(columns={"rank": "rank_c2d", "tokens_per_s": "paper_tokens_per_s"})
    merged = ref.merge(ours, on=["phase", "rank_c2d", "x"], how="inner")
    return merged.assign(relative_error=merged["tokens_per_s"] / merged["paper_tokens_per_s"] - 1)


def markdown(df: pd.DataFrame, floatfmt: str = ",.4g") -> str:
    """A DataFrame as a Markdown table (no tabulate dependency)."""
    def cell(v):
        return format(v, floatfmt) if isinstance(v, float) else str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])
