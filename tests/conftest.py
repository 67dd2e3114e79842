"""Shared fixtures: the paper's hardware, network and the model presets; hypothesis settings."""

import os

import pytest
from hypothesis import settings

from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS
from plmodel.specs import AdapterSpec, Scenario

# In CI the property tests draw the same examples on every run (no flaky red); locally they explore.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def a100():
    return load_hardware("a100-80g-pcie")


@pytest.fixture(scope="session")
def iphone():
    return load_hardware("iphone-13-pro-max")


@pytest.fixture(scope="session")
def paper_link():
    return load_link("5g-paper")


@pytest.fixture(scope="session")
def scenario(a100, iphone, paper_link):
    """A factory of scenarios on the paper's hardware: scenario('7b', rank=64, mode='paper', designs=(...), ...)."""

    def make(model="llama-2-7b", rank=64, link=paper_link, mode="realistic", batch=1, prompt_tokens=128, designs=(),
             **adapter):
        return Scenario(PRESETS[model], AdapterSpec(rank, rank, **adapter), a100, iphone, link, batch,
                        prompt_tokens, mode, designs=designs)

    return make
