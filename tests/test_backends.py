"""Where work runs: serial, local processes and Ray give the same records in the same order; a bad
backend or an unreachable cluster is one line."""

import subprocess
import sys

import pandas as pd
import pytest

from plmodel.errors import PlmodelError
from plmodel.studies.backends import ordered_map
from plmodel.studies.records import run_tasks
from plmodel.studies.sweep import load_sweep

SIM = """models: 7b
ranks: [16, 64]
network: 5g-edge
rtt_ms: [2, 20]
batch_sizes: 1
prompt_tokens: 64
engine: simulation
tokens: 6
users: 2
"""


def tasks(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SIM)
    return load_sweep(path).tasks


def test_processes_equal_serial(tmp_path):
    t = tasks(tmp_path)
    assert run_tasks(t, 2, False, backend="process") == run_tasks(t, 1, False, backend="serial")


def test_ray_starts_runs_and_stops_a_local_cluster(tmp_path):
    """The simulation points as Ray tasks on a local Ray it starts (2 CPUs) and stops: the serial records."""
    ray = pytest.importorskip("ray")
    t = tasks(tmp_path)
    assert run_tasks(t, 2, False, backend="ray") == run_tasks(t, 1, False, backend="serial")
    assert not ray.is_initialized()


def test_capacity_study_on_processes_equals_serial(tmp_path):
    from plmodel.studies import capacity_study

    path = tmp_path / "c.yaml"
    path.write_text("models: 7b\nrank: 64\nnetworks: [5g-edge, wifi-home]\ntpot_ms: [2000]\n")
    study = capacity_study.load_study(path)
    serial = pd.DataFrame(capacity_study.run_study(study, analytic_only=True))
    pd.testing.assert_frame_equal(pd.DataFrame(capacity_study.run_study(study, True, backend="process", jobs=2)), serial)
    assert len(serial) == 4 and (serial["max_rate_per_s"] > 0).any()


def test_bad_backend_and_address():
    with pytest.raises(PlmodelError):
        list(ordered_map(abs, [1], "cluster"))
    out = subprocess.run([sys.executable, "-m", "plmodel", "sweep", "--example", "rtt", "--out", "/tmp/never",
                          "--engine", "simulation", "--backend", "ray", "--address", "127.0.0.1:1"],
                         capture_output=True, text=True, timeout=120)
    if "Ray is not installed" not in out.stderr:
        assert out.returncode == 2 and out.stderr.startswith("ERROR: --address: no Ray cluster answers")


def test_plan_search_on_processes_equals_serial():
    from dataclasses import asdict

    from plmodel.io.profiles import load_hardware, load_link
    from plmodel.models import PRESETS
    from plmodel.specs import AdapterSpec, Scenario
    from plmodel.studies.plan import Targets, plan

    scn = Scenario(PRESETS["llama-2-7b"], AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                   load_hardware("iphone-15-pro"), load_link("5g-edge"))
    serial, best = plan(scn, Targets(tpot_s=0.3))
    parallel, best2 = plan(scn, Targets(tpot_s=0.3), backend="process", jobs=2)
    assert [asdict(d) for d in parallel] == [asdict(d) for d in serial] and best2.design == best.design
    assert len(serial) >= 15
