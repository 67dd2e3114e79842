"""Fuzzing the loaders: whatever the file holds, the only exception that escapes is PlmodelError."""

import json
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plmodel.errors import PlmodelError
from plmodel.io.profiles import BANDWIDTH_JITTER_KEYS, HARDWARE_KEYS, JITTER_KEYS, MEASURED_KEYS, NETWORK_KEYS, load_hardware, load_link
from plmodel.models import load_hf_config
from plmodel.studies.sweep import SCHEMA, load_sweep

KEYS = sorted({*HARDWARE_KEYS, *NETWORK_KEYS, *MEASURED_KEYS, *JITTER_KEYS, *BANDWIDTH_JITTER_KEYS, *SCHEMA,
               "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
               "intermediate_size", "vocab_size", "tie_word_embeddings", "head_dim"})
SCALARS = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from(["7b", "decode", "prefill", "lognormal", "5g-paper", "q,k,v"]))
VALUES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=5), max_leaves=20)
MAPPINGS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=10)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def only_plmodel_errors(loader, path: Path):
    try:
        loader(str(path))
    except PlmodelError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(MAPPINGS)
def test_yaml_loaders_with_random_mappings(tmp_path, data):
    """Random mappings over the real keys: hardware, network and sweep loaders raise only PlmodelError."""
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data))
    for loader in (load_hardware, load_link, load_sweep):
        only_plmodel_errors(loader, path)


VALID = {
    "sweep": {"models": "7b", "ranks": [16], "batch_sizes": 1, "network": "5g-paper", "targets": "q,k,v"},
    "hardware": {"memory_bandwidth_gbyte_per_s": 100, "peak_tflop_per_s": 10, "memory_gbyte": 8,
                 "measured": [{"model": "7b", "phase": "decode", "tokens_per_s": 3}]},
    "network": {"c2d_bandwidth_mbit_per_s": 100, "d2c_bandwidth_mbit_per_s": 60, "rtt_ms": 5,
                "jitter": {"distribution": "lognormal", "median_ms": 1, "p99_ms": 5}},
}
LOADERS = {"sweep": load_sweep, "hardware": load_hardware, "network": load_link}


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.data())
def test_loaders_with_one_field_mutated(tmp_path, kind, data):
    """A valid file with one field (or one nested field) replaced by anything: only PlmodelError."""
    doc = json.loads(json.dumps(VALID[kind]))
    key = data.draw(st.sampled_from(sorted(set(doc) | set(KEYS))))
    doc[key] = data.draw(VALUES)
    measured = doc.get("measured")
    if kind != "sweep" and isinstance(measured, list) and measured and isinstance(measured[0], dict) \
            and data.draw(st.booleans()):
        doc["measured"][0][data.draw(st.sampled_from(sorted(MEASURED_KEYS)))] = data.draw(SCALARS)
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(doc))
    only_plmodel_errors(LOADERS[kind], path)


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_yaml_loaders_with_random_text(tmp_path, text):
    """Random text, YAML or not: only PlmodelError."""
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    for loader in (load_hardware, load_link, load_sweep):
        only_plmodel_errors(loader, path)


@FUZZ
@given(MAPPINGS | VALUES)
def test_hf_config_loader_with_random_json(tmp_path, data):
    """Random JSON documents as config.json: only PlmodelError."""
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    only_plmodel_errors(lambda p: load_hf_config(Path(p)), path)


def test_safe_loading_only():
    """YAML is read with the safe loader only, and nothing from a config is evaluated or imported."""
    package = Path(__file__).resolve().parents[1] / "plmodel"
    # frozen.py compiles a record's methods, as dataclasses does, from its fields' names (identifiers, checked)
    src = "\n".join(p.read_text() for p in package.rglob("*.py") if p != package / "frozen.py")
    assert "yaml.safe_load" in src and 'getattr(yaml, "CSafeLoader", yaml.SafeLoader)' in src
    assert not re.search(r"yaml\.(unsafe_load|full_load|load_all)\(", src)
    loads = [line for line in src.splitlines() if "yaml.load(" in line]
    assert all("Loader=SAFE_LOADER" in line for line in loads), loads
    assert not re.search(r"(?<![.\w])(eval|exec)\(", src) and "__import__(" not in src and "import_module(" not in src
