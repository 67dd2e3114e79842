"""The cloud-only engine against published serving benchmarks on A100s (paperdata/serving.py, issue 24):
lmdeploy's ShareGPT request throughput (closed loop at its concurrency) and TensorRT-LLM's static batches."""

import pytest

from plmodel.fleet.arrivals import Workload
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.run import serve
from plmodel.hardware.runtimes import lookup
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS
from plmodel.paperdata.serving import ANCHOR_TOLERANCE, ANCHORS, KNOWN_MISSES, MISS_BAND
from plmodel.specs import AdapterSpec, Scenario


def served_tokens_per_s(a) -> float:
    """Output tokens a second of the engine at an anchor's conditions: its model on A100-80G SXM (a group of
    `gpus`) with the runtime of the engine measured, as many users as its batch, each sending its next request
    at once, its lengths and count."""
    scn = Scenario(PRESETS[a.model], AdapterSpec(64, 64), load_hardware("a100-80g-sxm"),
                   load_hardware("iphone-13-pro-max"), load_link("datacenter"), 1, a.prompt_tokens, "realistic",
                   cloud_runtime=lookup(a.runtime))
    w = Workload("closed", users=a.batch, requests=a.requests, prompt_tokens=a.prompt_tokens,
                 output_tokens=a.output_tokens, lengths=a.lengths)
    return serve(scn, w, server="cloud-only", batching=BatchingSpec(max_batch=a.batch), gpus=a.gpus).metrics[
        "throughput_tokens_per_s"]


@pytest.mark.parametrize("anchor", ANCHORS, ids=[a.name for a in ANCHORS])
def test_cloud_only_throughput_within_fifteen_percent_of_published(anchor):
    """Within 15 % of the published output tokens a second; a known miss within 5 % of its recorded ratio."""
    ratio = served_tokens_per_s(anchor) / anchor.output_tokens_per_s
    if anchor.name in KNOWN_MISSES:
        assert ratio == pytest.approx(KNOWN_MISSES[anchor.name], abs=MISS_BAND)
    else:
        assert ratio == pytest.approx(1.0, abs=ANCHOR_TOLERANCE)


def test_the_issues_anchors_are_not_excused():
    """The request-throughput and TensorRT-LLM rows (issue 24's acceptance) are held at 15 %, never known misses."""
    assert not [a.name for a in ANCHORS if a.name in KNOWN_MISSES and "static" not in a.name]
