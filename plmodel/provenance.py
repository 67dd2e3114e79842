"""What a study was made from, so a result can be traced and re-run: plmodel's version, Python's, the
config's hash and the hash of every profile file its points used."""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def profile_files(tasks) -> list:
    """The profile files behind a study's scenarios: hardware (with its power), network (with its radio)."""
    files = set()
    for t in tasks:
        s = t.scenario
        for src in (s.cloud.source, s.device.source, s.link.source, getattr(s.link.radio, "source", "")):
            if src and Path(src).is_file():
                files.add(str(Path(src).resolve()))
    return sorted(files)


def provenance(config_path, tasks) -> dict:
    from . import __version__

    return {"plmodel_version": __version__, "python": platform.python_version(),
            "config": {"file": Path(config_path).name, "sha256": sha256(config_path)},
            "profiles": {_label(f): sha256(f) for f in profile_files(tasks)}}


def _label(path: str) -> str:
    """A shipped profile as folder/name (network_profiles/lte.yaml); a user's file by its full path."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name.endswith("_profiles") else path
