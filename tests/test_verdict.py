"""The verdict in words (issue 25): it names the option the numbers put first, and the reason is the one
that decides."""

from dataclasses import replace

from plmodel.analysis.estimate import estimate
from plmodel.analysis.verdict import verdict
from plmodel.io.profiles import load_link


def test_the_fastest_is_the_fastest_option(scenario):
    """At 0 ms the split beats device-only and the verdict's fastest is the largest decode tokens/s."""
    for rtt_s in (0.0, 0.05):
        e = estimate(scenario(link=replace(load_link("5g-median"), rtt_s=rtt_s)))
        speeds = {"split": e.decode.tokens_per_s, "cloud-only": e.cloud_only.decode_tokens_per_s,
                  **{f"device-only {d.bits}-bit": d.decode_tokens_per_s for d in e.device_only if d.fits}}
        assert speeds[verdict(e).fastest] >= max(speeds.values()) / 1.02


def test_latency_is_the_reason_where_it_dominates(scenario):
    """At 51 ms RTT the round trips are most of split's time: the verdict says so and suggests a nearer edge;
    on a datacenter link it does not blame latency."""
    far = verdict(estimate(scenario(link=load_link("5g-median"))))
    assert "round trips a token at 51 ms" in far.reason and "--rtt-ms" in far.next_command
    near = verdict(estimate(scenario(link=load_link("datacenter"))))
    assert "round trips" not in near.reason


def test_lines_are_at_most_100_characters(scenario):
    """Every line of the verdict fits a 100-column terminal."""
    e = estimate(scenario(link=load_link("5g-sa-lowband-jitter")))
    assert all(len(line) <= 100 for line in verdict(e).lines())
