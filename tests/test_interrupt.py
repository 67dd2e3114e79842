"""Signals: SIGTERM is handled like Ctrl-C (one line, exit 143, nothing at --out, no process left), and
SIGKILL of a sweep leaves no orphaned worker. Signals are sent once the command shows work, never
after a fixed sleep; "gone" is polled for with a generous bound."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import poll_until, wait_for_output

BIG_SWEEP = ("models: [7b, 13b, 33b]\nranks: [16, 32, 64, 128, 256]\nbatch_sizes: [1, 2, 4, 8]\n"
             "engine: simulation\ntokens: 96\n")


def children(pid: int) -> set:
    """Pids of the live processes whose parent is `pid` (from /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def cloud_children(pid: int) -> set:
    """The testbed's cloud process among `pid`'s children (with --shaping tbf the testbed also runs
    short `ip` and `tc` commands, which must not pass for it)."""
    out = set()
    for c in children(pid):
        try:
            if b"plmodel.testbed.cloud" in Path(f"/proc/{c}/cmdline").read_bytes():
                out.add(c)
        except OSError:
            continue
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set, bound_s: float = 30.0) -> set:
    """Poll until none of `pids` lives, or the bound passes; the survivors."""
    poll_until(lambda: not any(alive(p) for p in pids), bound_s)
    return {p for p in pids if alive(p)}


def start_sweep(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(BIG_SWEEP)
    proc = subprocess.Popen([sys.executable, "-m", "plmodel", "sweep", str(cfg), "--out", str(tmp_path / "out"),
                             "--jobs", "2", "--progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_output(proc)  # the workers have finished a point
    return proc, children(proc.pid)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_sigterm_stops_a_sweep_like_ctrl_c(tmp_path):
    """SIGTERM: exit 143, one ERROR line, no worker survives, nothing at --out."""
    proc, workers = start_sweep(tmp_path)
    assert workers, "the sweep started no worker"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 143 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("ERROR: interrupted by SIGTERM")
    assert wait_gone(workers) == set()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_sigkill_leaves_no_orphan(tmp_path):
    """SIGKILL of the sweep (a scheduler's last word): its workers exit on their own."""
    proc, workers = start_sweep(tmp_path)
    assert workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=300)
    assert wait_gone(workers) == set()


def test_sigterm_during_simulate_writes_no_trace(tmp_path):
    """SIGTERM while `simulate` runs with --timeline: exit 143 and no timeline file, not even a temporary one."""
    proc = subprocess.Popen([sys.executable, "-m", "plmodel", "simulate", "--model", "7b", "--devices", "64",
                             "--output-tokens", "2000", "--progress", "--timeline", str(tmp_path / "t.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_output(proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def start_testbed(tmp_path, shaping="app"):
    """A long testbed session (torch needed); returns it once its cloud process is up."""
    pytest.importorskip("torch")
    proc = subprocess.Popen([sys.executable, "-m", "plmodel", "testbed", "--calibration",
                             str(Path(__file__).resolve().parents[1] / "hardware_profiles" / "apple-m2.yaml"),
                             "--output-tokens", "5000", "--rtt-ms", "20", "--shaping", shaping],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    poll_until(lambda: cloud_children(proc.pid) or proc.poll() is not None, 120)  # the evidence: its cloud process
    cloud = cloud_children(proc.pid)
    if not cloud:
        proc.kill()
        _, err = proc.communicate(timeout=600)
        if "needs root and network namespaces" in err:  # this machine refuses a veth pair or a tbf qdisc
            pytest.skip(err.strip().splitlines()[-1])
        raise AssertionError(f"the testbed started no cloud process; it printed: {err.strip()[-800:]}")
    return proc, cloud


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_testbed_leaves_no_cloud_process(tmp_path, sig):
    """SIGTERM (exit 143) or SIGKILL of the device: the cloud process does not outlive it."""
    proc, cloud = start_testbed(tmp_path)
    proc.send_signal(sig)
    proc.communicate(timeout=600)
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL)
    assert wait_gone(cloud) == set()


def namespaces() -> set:
    """The names of the network namespaces (`ip netns list` lines read "name (id: n)")."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def netns_allowed() -> bool:
    probe = f"plmodelprobe{os.getpid()}"
    ok = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ok


@pytest.mark.skipif(not Path("/proc").is_dir() or not netns_allowed(), reason="needs root and network namespaces")
def test_testbed_sigterm_removes_its_namespace(tmp_path):
    """With --shaping tbf, SIGTERM removes the network namespace, the veth pair and the cloud process."""
    proc, cloud = start_testbed(tmp_path, "tbf")
    tag = proc.pid % 100000
    assert f"plmodel{tag}" in namespaces()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=600)
    assert proc.returncode == 143 and wait_gone(cloud) == set()
    assert f"plmodel{tag}" not in namespaces()
    assert subprocess.run(["ip", "link", "show", f"plh{tag}"], capture_output=True).returncode != 0


def test_outside_the_main_thread_signals_are_left_alone():
    """terminable() and deferred() in another thread (a notebook's worker, the explorer's server) set no handler,
    as Python allows none there, and run their body; in the main thread they set theirs and put the old back."""
    import threading

    from plmodel.interrupt import deferred, terminable

    ran, before = [], signal.getsignal(signal.SIGTERM)

    def body():
        with terminable():
            ran.append(signal.getsignal(signal.SIGTERM) is before)
        with deferred() as poll:
            poll()
            ran.append(signal.getsignal(signal.SIGTERM) is before)

    worker = threading.Thread(target=body)
    worker.start()
    worker.join(timeout=60)
    assert ran == [True, True]
    with terminable():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
