"""A catalogue of malformed inputs across the command line, profiles, config.json and sweep files.

Each must give one or two lines naming the input and what was expected, exit status 2, no traceback,
and write nothing.
"""

import json

import pytest

from plmodel.cli import main

NET = "c2d_bandwidth_mbit_per_s: 100\nd2c_bandwidth_mbit_per_s: 60\nrtt_ms: 5\n"
HW = "memory_bandwidth_gbyte_per_s: 100\npeak_tflop_per_s: 10\nmemory_gbyte: 8\n"
HF = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
      "vocab_size": 100}
SWEEP = "models: 7b\nranks: 16\n"

# (id, files to create, argv, fragment the message must hold); "{d}" is the scratch folder.
CASES = [
    # command line
    ("unknown model", {}, ["estimate", "--model", "gpt-9"], "--model"),
    ("rank zero", {}, ["estimate", "--rank", "0"], "--rank"),
    ("rank negative", {}, ["estimate", "--rank", "-4"], "--rank"),
    ("rank text", {}, ["estimate", "--rank", "lots"], "--rank"),
    ("rank huge", {}, ["estimate", "--rank", "10000000000"], "--rank"),
    ("rank above hidden size", {}, ["estimate", "--rank", "4097"], "hidden size"),
    ("batch zero", {}, ["estimate", "--batch", "0"], "--batch"),
    ("batch huge", {}, ["estimate", "--batch", "99999999999"], "--batch"),
    ("prompt tokens negative", {}, ["estimate", "--prompt-tokens", "-1"], "--prompt-tokens"),
    ("rtt NaN", {}, ["estimate", "--rtt-ms", "nan"], "--rtt-ms"),
    ("rtt infinite", {}, ["estimate", "--rtt-ms", "inf"], "--rtt-ms"),
    ("unknown target", {}, ["estimate", "--targets", "q,x"], "targets"),
    ("layers text", {}, ["estimate", "--layers", "first"], "--layers"),
    ("layer out of range", {}, ["estimate", "--layers", "0-99"], "layers"),
    ("unknown mode", {}, ["estimate", "--mode", "turbo"], "--mode"),
    ("unknown network name", {}, ["estimate", "--network", "6g"], "--network"),
    ("missing profile file", {}, ["estimate", "--device", "{d}/none.yaml"], "no such file"),
    ("compute unit unknown", {"h.yaml": HW + "compute_units: {tpu: {peak_tflop_per_s: 1}}\n"},
     ["estimate", "--device", "{d}/h.yaml"], "compute_units"),
    ("compute unit without peak", {"h.yaml": HW + "compute_units: {gpu: {memory_bandwidth_gbyte_per_s: 50}}\n"},
     ["estimate", "--device", "{d}/h.yaml"], "compute_units.gpu.peak_tflop_per_s"),
    ("runtime on a unit the device lacks", {}, ["estimate", "--device", "raspberry-pi-5", "--device-runtime", "mlc-llm"],
     "no gpu"),
    ("folder as profile", {"prof": None}, ["estimate", "--cloud", "{d}/prof"], "folder"),
    ("sim tokens zero", {}, ["simulate", "--output-tokens", "0"], "--output-tokens"),
    ("sim devices zero", {}, ["simulate", "--devices", "0"], "--devices"),
    ("sim negative rate", {}, ["simulate", "--arrival", "poisson", "--rate", "-1"], "--rate"),
    ("timeline into missing folder", {}, ["simulate", "--output-tokens", "2", "--timeline", "{d}/no/t.json"],
     "--timeline"),
    ("timeline is a folder", {"tdir": None}, ["simulate", "--output-tokens", "2", "--timeline", "{d}/tdir"],
     "--timeline"),
    # network YAML
    ("network missing field", {"n.yaml": "c2d_bandwidth_mbit_per_s: 1\nrtt_ms: 1\n"},
     ["estimate", "--network", "{d}/n.yaml"], "d2c_bandwidth_mbit_per_s"),
    ("network negative bandwidth", {"n.yaml": NET.replace("60", "-60")}, ["estimate", "--network", "{d}/n.yaml"],
     "d2c_bandwidth_mbit_per_s"),
    ("network zero bandwidth", {"n.yaml": NET.replace("100", "0")}, ["estimate", "--network", "{d}/n.yaml"],
     "c2d_bandwidth_mbit_per_s"),
    ("network NaN rtt", {"n.yaml": NET.replace("rtt_ms: 5", "rtt_ms: .nan")}, ["estimate", "--network", "{d}/n.yaml"],
     "rtt_ms"),
    ("network huge bandwidth", {"n.yaml": NET.replace("100", "1e300")}, ["estimate", "--network", "{d}/n.yaml"],
     "c2d_bandwidth_mbit_per_s"),
    ("network text for number", {"n.yaml": NET.replace("60", "fast")}, ["estimate", "--network", "{d}/n.yaml"],
     "d2c_bandwidth_mbit_per_s"),
    ("network empty file", {"n.yaml": ""}, ["estimate", "--network", "{d}/n.yaml"], "expected a mapping"),
    ("network list not mapping", {"n.yaml": "- 1\n- 2\n"}, ["estimate", "--network", "{d}/n.yaml"], "mapping"),
    ("network YAML syntax", {"n.yaml": "rtt_ms: [1,\n"}, ["estimate", "--network", "{d}/n.yaml"], "not valid YAML"),
    ("network python tag", {"n.yaml": "!!python/object/apply:os.system ['touch pwned']\n"},
     ["estimate", "--network", "{d}/n.yaml"], "not valid YAML"),
    ("network jitter missing p99", {"n.yaml": NET + "jitter: {distribution: lognormal, median_ms: 1}\n"},
     ["simulate", "--network", "{d}/n.yaml"], "jitter.p99_ms"),
    ("network jitter as list", {"n.yaml": NET + "jitter: [1, 2]\n"}, ["simulate", "--network", "{d}/n.yaml"], "jitter"),
    # hardware YAML
    ("hardware unknown key", {"h.yaml": HW + "tflops: 3\n"}, ["estimate", "--device", "{d}/h.yaml"], "tflops"),
    ("hardware negative memory", {"h.yaml": HW.replace("8", "-8")}, ["estimate", "--device", "{d}/h.yaml"],
     "memory_gbyte"),
    ("hardware measured not a list", {"h.yaml": HW + "measured: 37.1\n"}, ["estimate", "--cloud", "{d}/h.yaml"],
     "measured"),
    ("hardware measured unknown model", {"h.yaml": HW + "measured: [{model: gpt9, phase: decode, tokens_per_s: 3}]\n"},
     ["estimate", "--cloud", "{d}/h.yaml"], "measured[0].model"),
    ("hardware python object tag", {"h.yaml": "!!python/name:os.system\n"}, ["estimate", "--cloud", "{d}/h.yaml"],
     "not valid YAML"),
    # Hugging Face config.json
    ("config missing field", {"c.json": json.dumps({"hidden_size": 64})}, ["estimate", "--model", "{d}/c.json"],
     "num_hidden_layers"),
    ("config text for number", {"c.json": json.dumps({**HF, "hidden_size": "wide"})},
     ["estimate", "--model", "{d}/c.json"], "c.json: hidden_size"),
    ("config 400-digit integer", {"c.json": json.dumps(HF)[:-1] + ', "hidden_size": 1' + "0" * 399 + "}"},
     ["estimate", "--model", "{d}/c.json"], "c.json: hidden_size: expected an integer from 1 to 10,000,000"),
    ("config integer past Python's digits", {"c.json": '{"vocab_size": 1' + "0" * 5000 + "}"},
     ["estimate", "--model", "{d}/c.json"], "not valid JSON"),
    ("network 400-digit number", {"n.yaml": "c2d_bandwidth_mbit_per_s: 1" + "0" * 400 + "\nd2c_bandwidth_mbit_per_s: 3\n"
                                                "rtt_ms: 9\n"},
     ["estimate", "--network", "{d}/n.yaml"], 'field "c2d_bandwidth_mbit_per_s": expected a finite number, got a number'),
    ("sweep 400-digit rank", {"s.yaml": "models: 7b\nranks: [1" + "0" * 400 + "]\n"},
     ["sweep", "{d}/s.yaml", "--out", "{d}/out"], 'field "ranks": expected integers from 1 to 10,000,000, got a number of'),
    ("config not JSON", {"c.json": "{hidden_size: 1"}, ["estimate", "--model", "{d}/c.json"], "not valid JSON"),
    ("config mixture of experts", {"c.json": json.dumps({**HF, "num_local_experts": 8})},
     ["estimate", "--model", "{d}/c.json"], "num_local_experts"),
    ("context past the model's limit", {}, ["estimate", "--model", "33b", "--prompt-tokens", "4096"], "--prompt-tokens"),
    ("simulation past the time bound", {}, ["simulate", "--devices", "10000", "--output-tokens", "100000"],
     "pass --yes"),
    ("sweep past the time bound", {"s.yaml": "models: 7b\nranks: [16, 32]\nengine: simulation\ntokens: 90000\n"
                                             "users: 1000\n"}, ["sweep", "{d}/s.yaml", "--out", "{d}/out"], "pass --yes"),
    ("generation past the model's limit", {}, ["simulate", "--model", "7b", "--prompt-tokens", "4000",
                                                "--output-tokens", "200"], "--output-tokens"),
    ("config a list", {"c.json": "[1, 2]"}, ["estimate", "--model", "{d}/c.json"], "JSON object"),
    ("config heads do not divide", {"c.json": json.dumps({**HF, "num_attention_heads": 5})},
     ["estimate", "--model", "{d}/c.json"], "n_heads"),
    ("config huge layers", {"c.json": json.dumps({**HF, "num_hidden_layers": 10**9})},
     ["estimate", "--model", "{d}/c.json"], "n_layers"),
    ("config missing file", {}, ["estimate", "--model", "{d}/none.json"], "no such file"),
    # sweep files
    ("sweep unknown key", {"s.yaml": SWEEP + "batch: 4\n"}, ["sweep", "{d}/s.yaml", "--out", "{d}/out"], "batch_sizes"),
    ("sweep empty axis", {"s.yaml": "models: []\nranks: 16\n"}, ["sweep", "{d}/s.yaml", "--out", "{d}/out"], "models"),
    ("sweep wrong type", {"s.yaml": SWEEP + "batch_sizes: [one]\n"}, ["sweep", "{d}/s.yaml", "--out", "{d}/out"],
     "batch_sizes"),
    ("sweep unknown profile", {"s.yaml": SWEEP + "device: nokia-3310\n"}, ["sweep", "{d}/s.yaml", "--out", "{d}/out"],
     "device"),
    ("sweep empty file", {"s.yaml": ""}, ["sweep", "{d}/s.yaml", "--out", "{d}/out"], "mapping"),
    ("sweep missing file", {}, ["sweep", "{d}/none.yaml", "--out", "{d}/out"], "no such file"),
    ("sweep folder as file", {"sdir": None}, ["sweep", "{d}/sdir", "--out", "{d}/out"], "folder"),
    ("sweep out is a file", {"s.yaml": SWEEP, "taken": "x"}, ["sweep", "{d}/s.yaml", "--out", "{d}/taken"],
     "existing file"),
    ("sweep python tag", {"s.yaml": "models: !!python/object/apply:os.getcwd []\nranks: 16\n"},
     ["sweep", "{d}/s.yaml", "--out", "{d}/out"], "not valid YAML"),
    ("calibrate out is a folder", {"cdir": None}, ["calibrate", "--out", "{d}/cdir"], "--out"),
]


def make_files(root, files):
    for name, content in files.items():
        path = root / name
        if content is None:
            path.mkdir()
        else:
            path.write_text(content)


def snapshot(root):
    return sorted((str(p.relative_to(root)), p.is_dir() or p.read_bytes()) for p in root.rglob("*"))


def test_catalogue_is_large():
    """At least 30 malformed inputs, over every input kind."""
    assert len(CASES) >= 30 and len({c[2][0] for c in CASES}) >= 4


@pytest.mark.parametrize("case_id,files,argv,fragment", CASES, ids=[c[0] for c in CASES])
def test_malformed_input(tmp_path, monkeypatch, capsys, case_id, files, argv, fragment):
    """One or two lines naming the input, exit 2, no traceback, nothing written."""
    make_files(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    code = run([a.replace("{d}", str(tmp_path)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("ERROR:") and 1 <= len(err.strip().splitlines()) <= 2 and "Traceback" not in err
    assert fragment in err, err
    assert out == "" and snapshot(tmp_path) == before
    assert not (tmp_path / "pwned").exists()


def run(argv) -> int:
    """The CLI's exit status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code



def test_yes_lets_big_work_through():
    """The bound refuses estimates past it; --yes (yes=True) lets the same estimate through."""
    from plmodel.errors import PlmodelError
    from plmodel.studies import budget

    with pytest.raises(PlmodelError, match="pass --yes"):
        budget.check(1e9, 1.0, "test", "x", yes=False)
    budget.check(1e9, 1e12, "test", "x", yes=True)
