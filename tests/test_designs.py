"""Designs are plugins (issue 22): the registry's declarations reach every edge, and a design written outside
plmodel plugs into the closed form, the simulation and the refusals through its hooks alone."""

import argparse
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest

from plmodel import designs
from plmodel.analysis.estimate import estimate
from plmodel.cli import scenario_args
from plmodel.design import Design, Param, require_engine
from plmodel.errors import PlmodelError
from plmodel.sim import simulate
from plmodel.studies import sweep
from plmodel.studies.records import inputs_of
from plmodel.studies.tasks import Task

DOCS = Path(__file__).resolve().parents[1] / "docs" / "designs"


@dataclass(frozen=True)
class FixedWait(Design):
    """A toy design from outside the package: every step waits `wait_s` more (say, a TEE's attestation)."""

    wait_s: float = 0.0
    name: ClassVar[str] = "fixed_wait"
    title: ClassVar[str] = "a fixed wait"
    params: ClassVar[tuple] = (Param("wait_s", "--wait-s", "float", 0.0, "seconds a step waits", "s"),)

    @classmethod
    def from_values(cls, values):
        return cls(values["wait_s"]) if values.get("wait_s") else None

    def hops_s(self, scn, step):
        return self.wait_s


def test_every_parameter_is_a_cli_option_with_its_default():
    """Each declared parameter is an option of the commands that build a scenario, dest its name, its default."""
    p = argparse.ArgumentParser()
    scenario_args.register(p)
    actions = {a.dest: a for a in p._actions}
    for _, prm in designs.params():
        assert prm.option in actions[prm.name].option_strings and actions[prm.name].default == prm.default


def test_record_parameters_are_sweep_axes_and_record_columns(scenario):
    """A record parameter is a sweep key (its default the axis's) and a record column (the absent value there)."""
    cols = inputs_of(scenario(), Task(scenario(), ("decode",), "q,k,v", "analytical", 8, 1, 0))
    for prm in designs.record_params():
        assert sweep.AXES[prm.name] == [prm.default] and cols[prm.name] == prm.absent


@pytest.mark.parametrize("cls", designs.DESIGNS, ids=[c.name for c in designs.DESIGNS])
def test_each_design_page_shows_its_table(cls):
    """docs/designs/<name>.md holds the parameter table the registry generates (it cannot drift from the code)."""
    assert designs.param_table(cls) in (DOCS / f"{cls.name}.md").read_text()


@pytest.mark.parametrize("cls", designs.DESIGNS, ids=[c.name for c in designs.DESIGNS])
def test_defaults_leave_a_design_out(cls):
    """A design's parameters at their defaults ask for no design (the paper's split stays as it is)."""
    assert cls.from_values({p.name: p.default for p in cls.params}) is None


def test_a_design_from_outside_plugs_into_closed_form_and_simulation(scenario):
    """A new design is a class: its hook adds exactly its wait to every step, in the closed form and the
    simulation alike, without a line of plmodel changed."""
    plain = scenario()
    waited = replace(plain, designs=(FixedWait(0.25),))
    a, b = estimate(plain), estimate(waited)
    assert float(b.decode.total_s - a.decode.total_s) == pytest.approx(0.25, rel=1e-12)
    assert float(b.prefill.total_s - a.prefill.total_s) == pytest.approx(0.25, rel=1e-12)
    m = simulate(waited, 2, 1).metrics
    assert m["tpot_p50_s"] == pytest.approx(float(b.decode.total_s), rel=1e-9)


def test_an_engine_refuses_a_design_it_does_not_model_in_one_line(scenario):
    """The fleet engine does not list the toy design: one line naming its field."""
    scn = replace(scenario(), designs=(FixedWait(0.1),))
    with pytest.raises(PlmodelError) as e:
        require_engine(scn, "fleet")
    assert e.value.field == "wait_s" and "\n" not in str(e.value)
    assert re.search(r"the fleet engine does not model a fixed wait", str(e.value))


def test_the_paper_accounting_refuses_every_registered_design(scenario):
    """The paper's accounting has none of the designs beyond it; each is refused naming its own field."""
    for d in (designs.PipelinedPrefill(2), designs.Speculative(scenario().model), designs.HeldLayers(1, 0)):
        with pytest.raises(PlmodelError) as e:
            replace(scenario(mode="paper"), designs=(d,))
        assert e.value.field == d.field
