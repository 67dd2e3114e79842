"""The cloud recovers each adapter's M by least squares from one prompt's traffic once T >= r_c2d tokens cross."""

import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from plmodel.layer_sets import LayerSplit  # noqa: E402
from plmodel.reference.recovery import adapter_recovery, record, recover, underdetermined  # noqa: E402
from plmodel.reference.split import SplitModel  # noqa: E402
from plmodel.specs import PROJECTIONS, AdapterSpec, ModelSpec  # noqa: E402

SMALL = ModelSpec("small", 3, 64, 4, 2, 160, 256)  # GQA: 2 KV heads for 4 query heads

CASES = {
    "qkv": AdapterSpec(8, 8),
    "rc2d!=rd2c": AdapterSpec(12, 5),
    "all seven, r_c2d = d_model": AdapterSpec(64, 16, PROJECTIONS),
    "device holds both ends": AdapterSpec(6, 10, PROJECTIONS, split=LayerSplit(1, 1)),
}


def test_recording_holds_every_token_of_every_adapted_projection():
    """The recording has u (T x r_c2d) and v (T x r_d2c) of every adapted projection of every adapted layer."""
    adapter = AdapterSpec(8, 5, ("q", "v", "down"), layers=(0, 2))
    split = SplitModel(SMALL, adapter)
    channel = record(split, torch.randint(0, 256, (1, 11)))
    assert set(channel.down) == set(channel.up) == {(i, p) for i in (0, 2) for p in ("q", "v", "down")}
    assert {tuple(t.shape) for ts in channel.down.values() for t in ts} == {(1, 11, 8)}
    assert {tuple(t.shape) for ts in channel.up.values() for t in ts} == {(1, 11, 5)}
    assert split.channel is not channel and split.channel.log == []  # the split's own channel is put back


def test_reference_m_is_not_zero():
    """M in the reference is random and non-zero (a zero M would make the recovery trivial)."""
    split = SplitModel(SMALL, AdapterSpec(8, 8))
    assert all(m.abs().min() > 0 for m in split.device_part.M.values())


@pytest.mark.parametrize("case", sorted(CASES))
def test_m_recovered_with_enough_tokens(case):
    """With T = 4 r_c2d tokens, least squares on the recorded u and v gives every M within 1 %."""
    adapter = CASES[case]
    r = adapter_recovery(SMALL, adapter, 4 * adapter.r_c2d)
    assert r.projections == len(adapter.targets) * len(adapter.adapted_layers(SMALL.n_layers)) > 0
    assert r.determined and r.max_error < 0.01


def test_wrong_recording_does_not_recover():
    """The error is measured against the device's M: pairing u with another projection's v does not recover."""
    split = SplitModel(SMALL, AdapterSpec(8, 8))
    channel = record(split, torch.randint(0, 256, (1, 32)))
    u, v = torch.cat(channel.down[(0, "q")], 1)[0].double(), torch.cat(channel.up[(0, "k")], 1)[0].double()
    m_hat, m = torch.linalg.lstsq(u, v).solution, split.device_part.M["0_q"].double()
    assert (torch.linalg.matrix_norm(m_hat - m) / torch.linalg.matrix_norm(m)).item() > 0.1
    assert recover(split, torch.randint(0, 256, (1, 32))).max_error < 0.01


@pytest.mark.parametrize("case", sorted(CASES))
def test_fewer_tokens_than_r_c2d_do_not_recover(case):
    """With T = r_c2d / 2 tokens the system is underdetermined: u has rank < r_c2d and the error is > 10 %."""
    r = underdetermined(SMALL, CASES[case])
    assert r.tokens == CASES[case].r_c2d // 2 and not r.determined
    assert max(r.ranks.values()) < r.r_c2d and r.median_error > 0.1


def test_validate_json_carries_the_recovery():
    """validate --json has the recovery's max relative error, tokens and projections; the table has the line."""
    args = [sys.executable, "-m", "plmodel", "validate", "--model", "7b", "--rank", "16", "--build-layers", "2",
            "--prompt-tokens", "32"]
    out = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["adapter_recovery_tokens"] == 32 and r["adapter_recovery_projections"] == 6  # 2 layers x q, k, v
    assert r["adapter_recovery_relative_error"] < 0.01 and r["adapter_recovery_r_c2d"] == 16
    assert r["adapter_recovery_underdetermined_tokens"] == 8 and r["adapter_recovery_underdetermined_relative_error"] > 0.1
    assert r["all_match"] and all(c["match"] for c in r["checks"])
    table = subprocess.run(args, capture_output=True, text=True, timeout=900).stdout
    assert "adapter M recovered by the cloud from one prompt's traffic" in table
    assert "over 6 projections (32 tokens crossed, r_c2d = 16" in table
