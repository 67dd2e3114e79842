"""Shipped profiles are complete and sourced; user YAML is validated with file and field named."""

import re
from dataclasses import replace

import pytest
import yaml

from plmodel.errors import PlmodelError
from plmodel.io.profiles import (
    available,
    hardware_from_mapping,
    hardware_to_mapping,
    link_from_mapping,
    link_to_mapping,
    load_hardware,
    load_link,
    profile_dirs,
)

REQUIRED_HARDWARE = {"a100-80g-pcie", "a100-80g-sxm", "h100-sxm", "h200", "l4", "iphone-13-pro-max", "iphone-15-pro",
                     "snapdragon-8-gen3", "apple-m2", "apple-m3", "raspberry-pi-5", "jetson-orin-nano"}
REQUIRED_NETWORK = {"5g-paper", "5g-mmwave", "5g-nsa-lowband", "5g-sa-lowband", "5g-median", "lte", "wifi-home",
                    "fixed-broadband", "datacenter"}
UNIT_SUFFIX = re.compile(r"_(gbyte_per_s|tflop_per_s|gbyte|gib|w|wh|s|usd_per_hour|mbit_per_s|mbit_s_up|mbit_s_down|ms|us|"
                         r"factor|per_message)$")


def test_required_profiles_present():
    """Every profile the issue lists ships."""
    assert REQUIRED_HARDWARE <= set(available("hardware"))
    assert REQUIRED_NETWORK <= set(available("network"))


@pytest.mark.parametrize("kind", ["hardware", "network", "radio"])
def test_every_figure_has_unit_and_source(kind):
    """Each numeric key carries its unit in its name and a source comment on its line."""
    for path in profile_dirs()[kind].glob("*.yaml"):
        for line in path.read_text().splitlines():
            m = re.match(r"^\s*([a-z0-9_]+):\s*([-0-9.]+)\s*(#.*)?$", line)
            if m and m.group(1) not in ("weight_bits", "batch"):
                assert UNIT_SUFFIX.search(m.group(1)), f"{path.name}: {m.group(1)} has no unit"
                assert m.group(3), f"{path.name}: {m.group(1)} has no source comment"


def test_paper_figures_in_profiles(a100, iphone, paper_link):
    """The paper's A100, iPhone and 5G figures, in SI."""
    assert (a100.mem_bw_bytes_per_s, a100.peak_flop_per_s) == (1935e9, 312e12)
    assert (iphone.mem_bw_bytes_per_s, iphone.peak_flop_per_s) == (42.7e9, 18.5e12)
    assert (paper_link.c2d_bps, paper_link.d2c_bps, paper_link.rtt_s) == (100e6, 60e6, 0.0)
    assert a100.measured_speed("llama-2-7b", "decode", 16, "hf-eager").tokens_per_s == 37.1
    assert a100.measured_speed("llama-2-7b", "decode", 16, "optimized") is None  # measured with another runtime


@pytest.mark.parametrize("name", sorted(REQUIRED_HARDWARE))
def test_hardware_roundtrip(name):
    """A profile written back to a mapping and read again gives an equal spec."""
    hw = load_hardware(name)
    again = hardware_from_mapping(yaml.safe_load(yaml.safe_dump(hardware_to_mapping(hw))), hw.source, hw.name)
    assert replace(again, measured=tuple(replace(m, source="") for m in again.measured)) == \
        replace(hw, measured=tuple(replace(m, source="") for m in hw.measured))


@pytest.mark.parametrize("name", sorted(REQUIRED_NETWORK | {"5g-sa-lowband-jitter"}))
def test_network_roundtrip(name):
    """A network profile written back to YAML and read again gives an equal spec."""
    link = load_link(name)
    assert link_from_mapping(yaml.safe_load(yaml.safe_dump(link_to_mapping(link))), link.source, link.name) == link


BASE_NET = "c2d_bandwidth_mbit_per_s: 100\nd2c_bandwidth_mbit_per_s: 60\nrtt_ms: 10\n"
BASE_HW = "memory_bandwidth_gbyte_per_s: 100\npeak_tflop_per_s: 10\nmemory_gbyte: 8\n"


@pytest.mark.parametrize("loader,text,fragment", [
    (load_link, "c2d_bandwidth_mbit_per_s: 100\nrtt_ms: 1\n", 'missing field "d2c_bandwidth_mbit_per_s"'),
    (load_link, BASE_NET.replace("60", "-60"), 'field "d2c_bandwidth_mbit_per_s": expected a number > 0'),
    (load_link, BASE_NET.replace("60", "fast"), 'field "d2c_bandwidth_mbit_per_s": expected a finite number'),
    (load_link, BASE_NET.replace("rtt_ms: 10", "rtt_ms: .nan"), 'field "rtt_ms": expected a finite number'),
    (load_link, BASE_NET + "rtt: 3\n", 'unknown field "rtt"'),
    (load_link, BASE_NET + "jitter: {distribution: lognormal, median_ms: 1}\n", 'missing field "jitter.p99_ms"'),
    (load_link, "- 1\n- 2\n", "expected a mapping"),
    (load_link, BASE_NET + "bandwidth_jitter: {distribution: lognormal, median_factor: 2, p99_factor: 1}\n",
     "p99_factor"),
    (load_link, BASE_NET + "jitter: {distribution: normal, median_ms: 1, p99_ms: 2}\n", "lognormal"),
    (load_link, "", "expected a mapping"),
    (load_link, "a: [1,\n", "not valid YAML"),
    (load_link, "!!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
    (load_hardware, BASE_HW.replace("memory_gbyte: 8", "memory_gb: 8"), "did you mean 'memory_g"),
    (load_hardware, BASE_HW + "measured: [{model: 7b, phase: decode}]\n", 'missing field "measured[0].tokens_per_s"'),
    (load_hardware, BASE_HW + "measured: [{model: gpt9, phase: decode, tokens_per_s: 3}]\n", "unknown model"),
    (load_hardware, BASE_HW + "measured: [{model: 7b, phase: train, tokens_per_s: 3}]\n", "prefill or decode"),
])
def test_bad_profile(tmp_path, loader, text, fragment):
    """A malformed profile gives one line naming the file and the field."""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PlmodelError) as err:
        loader(str(path))
    msg = str(err.value)
    assert fragment in msg and str(path) in msg and "\n" not in msg


def test_missing_and_folder_paths(tmp_path):
    """A missing file and a folder are named as such."""
    with pytest.raises(PlmodelError, match="no such file"):
        load_link(str(tmp_path / "nope.yaml"))
    with pytest.raises(PlmodelError, match="is a folder"):
        load_link(str(tmp_path) + "/")


def test_unknown_profile_name_lists_choices():
    """An unknown profile name lists the shipped ones."""
    with pytest.raises(PlmodelError, match="5g-paper"):
        load_link("6g-dream")
