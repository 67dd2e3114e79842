"""Figures draw what they show: the axes they do not show are panels (a few values) or held at one value
they name, and lines are thinned to stay legible."""

import itertools

import pandas as pd

from plmodel.studies.facets import thin, view


def frame():
    rows = [{"model": m, "network": n, "batch": b, "rank_c2d": r, "rank_d2c": r, "rtt_s": t, "prompt_tokens": 128,
             "tokens_per_s": 1.0 / (1 + t) / b}
            for m, n, b, r, t in itertools.product(["a", "b"], ["x", "y", "z"], [4, 1, 2], range(8, 8 * 21, 8),
                                                   [0.0, 0.01, 0.05])]
    return pd.DataFrame(rows)


def test_unseen_axes_become_panels_or_are_held():
    v = view(frame(), ("rtt_s", "model", "rank_c2d", "rank_d2c"))
    assert v.panel == "network" and v.held == {"batch": 1}
    assert set(v.df["batch"]) == {1} and v.df["prompt_tokens"].nunique() == 1
    assert [title for title, _ in v.panels()] == ["network x", "network y", "network z"]
    assert v.caption() == "held fixed: batch 1"
    flat = view(frame(), ("rtt_s", "model", "rank_c2d", "rank_d2c"), panels=False)
    assert flat.panel is None and flat.held == {"network": "x", "batch": 1}


def test_thin_keeps_the_ends_and_at_most_six():
    kept = sorted(thin(frame(), "rank_c2d")["rank_c2d"].unique())
    assert len(kept) == 6 and kept[0] == 8 and kept[-1] == 160


def test_rtt_figure_draws_a_panel_a_network_and_no_zigzag():
    from plmodel.studies.plots import rtt_sensitivity

    df = frame().assign(phase="decode", break_even_rtt_s=0.002, device_only_4bit_tokens_per_s=0.5)
    fig = rtt_sensitivity(df)
    axes = fig.get_axes()
    assert len(axes) == 3
    for ax in axes:  # 6 ranks x 2 models, plus the break-even crosses and a device line a model
        lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
        assert len(lines) == 12 and all(list(ln.get_xdata()) == sorted(ln.get_xdata()) for ln in lines)
    assert any("held fixed: batch 1" in t.get_text() for t in fig.texts)
