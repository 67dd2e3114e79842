"""The vectorised sweep path: the same records as point by point (values, order, columns), each block's
points estimated at once, a study of a million points bounded in time by a benchmark, not here."""

import numpy as np
import pandas as pd
import pytest

from plmodel.studies.records import run_tasks
from plmodel.studies.sweep import load_sweep
from plmodel.studies.sweep_vector import blocks, sweep_frame
from plmodel.studies.tables import to_frame

SHIPPED = ["paper", "rtt", "devices", "networks", "energy"]


def both(path):
    cfg = load_sweep(path)
    return to_frame(run_tasks(cfg.tasks, 1, False)), sweep_frame(cfg)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_sweeps_equal_point_by_point(name):
    from plmodel.io.profiles import profile_dirs

    same(*both(profile_dirs()["sweeps"] / f"{name}.yaml"))


def test_a_grid_of_designs_equals_point_by_point(tmp_path):
    """Every axis at once, the RTT axis mixing the profiles' own with given ones, a draft, a chain, held
    layers, no adapters, paper mode, two devices (one without power figures), and batches that need two
    cloud GPUs for 70B beside those that need one: each point's record as point by point, in order."""
    path = tmp_path / "g.yaml"
    path.write_text("""
grids:
  - models: [7b, 13b]
    ranks: [16, 96]
    rank_pairs: null
    targets: ["q,k,v", none]
    batch_sizes: [1, 3]
    prompt_tokens: [64, 300]
    network: [5g-median, wifi-home]
    device: [iphone-15-pro, jetson-orin-nano]
    rtt_ms: [null, 7]
    device_layers_first: [0, 1]
    draft_model: [null, tinyllama-1.1b]
  - models: 70b
    ranks: 32
    cloud: a100-80g-sxm
    batch_sizes: [1, 64]
    prompt_tokens: 2048
    servers: [1, 2]
    mode: realistic
  - models: 7b
    ranks: [8, 64]
    batch_sizes: [1, 4]
    mode: paper
    network: 5g-paper
    prefill_chunks: 1
  - models: 7b
    ranks: 64
    prompt_tokens: [32, 96]
    prefill_chunks: [1, 4]
""")
    a, b = both(path)
    same(a, b)
    assert len(a) > 500 and a["tokens_per_s"].notna().all()


def test_blocks_cover_each_point_once(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("models: [7b, 13b]\nranks: [8, 16, 32]\nbatch_sizes: [1, 2]\nrtt_ms: [0, 5, 20]\n"
                    "network: [5g-median, lte]\n")
    (grid,) = load_sweep(path).grids
    orders = np.concatenate([b.order for b in blocks(grid)])
    assert sorted(orders) == list(range(grid.size)) and len(list(blocks(grid))) == 2 * 2


def test_a_bad_point_is_named_at_load(tmp_path):
    """The vectorised checks still name the key and the value that is wrong."""
    from plmodel.errors import PlmodelError

    path = tmp_path / "bad.yaml"
    path.write_text("models: 7b\nranks: [16, 8192]\n")
    with pytest.raises(PlmodelError) as e:
        load_sweep(path)
    assert 'field "ranks"' in str(e.value) and "8192" in str(e.value)
