"""A placement file: a chain of servers, each with its layers and hardware. Even hardware equals --servers,
mixed hardware adds each server's own time, the simulation agrees, and bad files get one line."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest
import yaml

from plmodel.analysis.estimate import estimate
from plmodel.designs import HeldLayers, ServerChain
from plmodel.io.placements import load_placement
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS
from plmodel.sim import simulate
from plmodel.specs import AdapterSpec, Scenario


def write(tmp_path, servers, **extra):
    path = tmp_path / "placement.yaml"
    path.write_text(yaml.safe_dump({"servers": servers, **extra}))
    return str(path)


def chain(tmp_path, *hardware, model="llama-2-13b", held=HeldLayers(0, 0)):
    lo, hi = held.device_layers_first, PRESETS[model].n_layers - held.device_layers_last
    cut = [lo + round(i * (hi - lo) / len(hardware)) for i in range(len(hardware) + 1)]
    placement, link = load_placement(write(tmp_path, [{"layers": f"{a}-{b - 1}", "cloud": h}
                                                      for a, b, h in zip(cut, cut[1:], hardware)]))
    chosen = (held,) if held.device_layers_first or held.device_layers_last else ()
    return Scenario(PRESETS[model], AdapterSpec(64, 64), placement.servers[0].hardware, load_hardware("iphone-15-pro"),
                    load_link("5g-edge"), designs=(*chosen, ServerChain(len(hardware), link, placement)))


def test_even_hardware_equals_servers(tmp_path):
    placed = chain(tmp_path, "h100-sxm", "h100-sxm")
    even = replace(placed, designs=(replace(placed.designs[0], placement=None),))
    a, b = estimate(placed).flat(), estimate(even).flat()
    assert {k: (a[k], b[k]) for k in b if isinstance(b[k], float) and a[k] != pytest.approx(b[k], rel=1e-12)} == {}


def test_mixed_hardware_adds_each_servers_time(tmp_path):
    """Half the layers on each: the cloud's time is the mean of the two all-same chains, to rounding."""
    fast, slow = (estimate(chain(tmp_path, h, h)).flat() for h in ("h100-sxm", "l4"))
    mixed = estimate(chain(tmp_path, "h100-sxm", "l4")).flat()
    for key in ("decode_cloud_s", "prefill_cloud_s"):
        assert mixed[key] == pytest.approx((fast[key] + slow[key]) / 2, rel=1e-12)
    assert fast["decode_cloud_s"] < mixed["decode_cloud_s"] < slow["decode_cloud_s"]
    assert mixed["cloud_only_decode_tokens_per_s"] < fast["cloud_only_decode_tokens_per_s"]


def test_simulation_agrees(tmp_path):
    scn = chain(tmp_path, "h100-sxm", "a100-80g-sxm", "l4", held=HeldLayers(1, 0))
    e = estimate(scn).flat()
    m = simulate(scn, 3, 1).metrics
    assert m["ttft_s"] == pytest.approx(e["ttft_s"], rel=1e-9)
    assert m["tpot_p50_s"] == pytest.approx(e["tpot_s"], rel=0.005)


@pytest.mark.parametrize("servers,message", [
    ([{"layers": "0-19", "cloud": "h100-sxm"}, {"layers": "21-39", "cloud": "l4"}], "servers[1] starts at layer 21"),
    ([{"layers": "0-20", "cloud": "h100-sxm"}, {"layers": "20-39", "cloud": "l4"}], "servers[1] starts at layer 20"),
    ([{"layers": "0-30", "cloud": "h100-sxm"}], "the servers end at layer 30"),
    ([{"layers": "0-39", "cloud": "h200x"}], 'field "servers[0].cloud"'),
    ([{"layers": "ten", "cloud": "l4"}], 'field "servers[0].layers": expected a range'),
    ([{"layers": "0-39", "cloud": "l4", "gpu": 1}], "gpu"),
    ([], 'field "servers": expected a list'),
])
def test_bad_files_get_one_line(tmp_path, servers, message):
    path = write(tmp_path, servers)
    out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--model", "13b", "--placement", path],
                         capture_output=True, text=True)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("ERROR: ") and ("placement" in out.stderr or path in out.stderr)


def test_placement_and_servers_conflict(tmp_path):
    path = write(tmp_path, [{"layers": "0-39", "cloud": "l4"}])
    out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--model", "13b", "--placement", path,
                          "--servers", "2"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("ERROR: --servers: a placement file lists the servers")


def test_json_names_each_servers_layers(tmp_path):
    path = write(tmp_path, [{"layers": [0, 9], "cloud": "h100-sxm"}, {"layers": "10-39", "cloud": "a100-80g-sxm"}],
                 server_network="datacenter")
    out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--model", "13b", "--placement", path, "--json"],
                         capture_output=True, text=True, check=True)
    rec = json.loads(out.stdout)
    assert rec["server_layers"] == "0-9@h100-sxm;10-39@a100-80g-sxm" and rec["servers"] == 2
