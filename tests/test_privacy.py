"""What the cloud can recover (designs/exposure.py, analysis/privacy.py): the published split exposes the
prompt, the output and the adapter M; the designs that hide something say what and why."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from plmodel.analysis.estimate import estimate
from plmodel.analysis.privacy import DEVICE_ONLY, parse_asked, split_exposure
from plmodel.designs import ConfidentialCloud, HeldLayers, PrivateLayers, TokenIdsUp
from plmodel.designs.exposure import of_split


def plmodel(*args):
    return subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, timeout=120)


def test_published_split_exposes_prompt_output_and_adapter(scenario):
    """Embeddings up are a table lookup (1 token), the output the public LM head (1 token), M after r_c2d tokens."""
    scn = scenario(rank=16)
    x = of_split(scn.model, scn.adapter)
    assert x.cloud_can_recover == ["prompt", "output", "adapter"]
    assert x.of("prompt").tokens == 1 and "lookup" in x.of("prompt").how
    assert x.of("adapter").tokens == 16 and "least squares" in x.of("adapter").how


def test_least_squares_recovers_m_from_r_c2d_tokens():
    """The argument itself: r_c2d independent u = x.A and v = u.M give M exactly; fewer do not pin it down."""
    rng = np.random.default_rng(0)
    r_c2d, r_d2c = 8, 12
    m = rng.normal(size=(r_c2d, r_d2c))
    u = rng.normal(size=(r_c2d, r_c2d))  # r_c2d tokens' u (independent with probability 1)
    got, *_ = np.linalg.lstsq(u, u @ m, rcond=None)
    assert np.allclose(got, m, atol=1e-9)
    assert np.linalg.matrix_rank(u[: r_c2d - 1]) < r_c2d  # one token short: a family of M fit


def test_no_adapters_no_m(scenario):
    """A plain split client sends no u: nothing to solve for."""
    scn = scenario(targets=())
    assert of_split(scn.model, scn.adapter).cloud_can_recover == ["prompt", "output"]


def test_public_held_layers_change_how_not_what(scenario):
    """Held layers with public weights: the prompt by inversion rather than lookup; still recoverable."""
    scn = scenario(designs=(HeldLayers(2, 1),))
    x = split_exposure(scn)
    assert x.cloud_can_recover == ["prompt", "output", "adapter"] and "invert" in x.of("prompt").how


def test_private_layers_hide_what_they_cover(scenario):
    """Private first layers hide the prompt, private last layers the output; M on the cloud's layers stays."""
    first = scenario(designs=(HeldLayers(2, 0), PrivateLayers()))
    both = scenario(targets=(), designs=(HeldLayers(2, 2), PrivateLayers()))
    assert split_exposure(first).cloud_can_recover == ["output", "adapter"]
    assert split_exposure(both).cloud_can_recover == []


def test_token_ids_hide_nothing_more(scenario):
    scn = replace(scenario(), designs=(TokenIdsUp(),))
    assert split_exposure(scn).cloud_can_recover == ["prompt", "output", "adapter"]


def test_tee_hides_everything_from_the_operator(scenario):
    e = estimate(replace(scenario(), designs=(ConfidentialCloud(0.07),)))
    assert e.exposure.cloud_can_recover == [] and e.cloud_only_exposure.cloud_can_recover == []


def test_device_only_hides_everything():
    assert DEVICE_ONLY.cloud_can_recover == [] and DEVICE_ONLY.hides(("prompt", "output", "adapter"))


@pytest.mark.parametrize("text,want", [("none", ()), ("prompt", ("prompt",)), ("adapter, prompt", ("prompt", "adapter"))])
def test_parse_asked(text, want):
    assert parse_asked(text) == want


def test_parse_asked_refuses_unknown():
    with pytest.raises(ValueError, match="secrets"):
        parse_asked("prompt,secrets")


def test_estimate_json_and_text_report_it():
    """--json lists what the cloud can recover with the tokens each needs; the text says it too."""
    r = json.loads(plmodel("estimate", "--rank", "32", "--json").stdout)
    assert r["cloud_can_recover"] == ["prompt", "output", "adapter"] and r["cloud_can_recover_adapter_tokens"] == 32
    held = json.loads(plmodel("estimate", "--device-layers-first", "2", "--private-layers", "1", "--json").stdout)
    assert "prompt" not in held["cloud_can_recover"] and "adapter" in held["cloud_can_recover"]
    text = plmodel("estimate", "--rank", "32").stdout
    assert "split: the cloud can recover prompt, output, adapter" in text and "adapter (after 32 tokens)" in text
    assert "prompt (from each token)" in text
