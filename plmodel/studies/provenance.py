"""What a study was made from, so a result can be traced and re-run: plmodel's version, Python's, the
config's hash and the hash of every profile file its points used."""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path

from plmodel.version import __version__


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def profile_files(specs) -> list:
    """The profile files behind a study's hardware and network specs (a network's radio included)."""
    files = set()
    for s in specs:
        for src in (s.source, getattr(getattr(s, "radio", None), "source", "")):
            if src and Path(src).is_file():
                files.add(str(Path(src).resolve()))
    return sorted(files)


def scenario_specs(scenarios) -> list:
    """The hardware and network specs of scenarios."""
    return [x for s in scenarios for x in (s.cloud, s.device, s.link)]


def provenance(config_path, specs) -> dict:
    """`specs`: the hardware and network specs the study used."""
    return {"plmodel_version": __version__, "python": platform.python_version(),
            "config": {"file": Path(config_path).name, "sha256": sha256(config_path)},
            "profiles": {_label(f): sha256(f) for f in profile_files(specs)}}


def _label(path: str) -> str:
    """A shipped profile as folder/name (network_profiles/lte.yaml); a user's file by its full path."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name.endswith("_profiles") else path
