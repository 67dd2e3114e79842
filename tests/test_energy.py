"""Device energy: the radio's state machine, the closed form against the simulation, and its properties."""

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plmodel.analysis import energy
from plmodel.analysis.baselines import cloud_only, device_only
from plmodel.analysis.estimate import estimate
from plmodel.errors import PlmodelError
from plmodel.hardware.power import RadioSpec
from plmodel.hardware.radio import RadioMeter
from plmodel.io.profiles import available, load_link
from plmodel.sim import simulate

LTE = RadioSpec("lte", 1.2, 0.44, 0.052, 0.1, 10.0, 1.06, 0.26, 1.21, 0.02)


def test_one_message_then_idle_by_hand():
    """One 10 ms upload from idle, then 20 s of silence: promotion (delaying it), 10 ms + 100 ms
    connected, 10 s of tail, the rest idle; energies are time x power, plus 8 kbit x 0.44 J/Mbit."""
    m = RadioMeter(LTE, 0.0)
    m.on_transmission(0.0, 0.01, "d2c", 1000)
    m.close(20.0)
    assert m.delay_s == pytest.approx(0.26) and m.time_s["promotion"] == pytest.approx(0.26)
    assert m.time_s["connected"] == pytest.approx(0.11) and m.time_s["tail"] == pytest.approx(10.0)
    assert m.time_s["idle"] == pytest.approx(20.0 - 10.11)
    want = 0.26 * 1.21 + 0.11 * 1.2 + 10 * 1.06 + (20 - 10.11) * 0.02 + 8e3 * 1e-6 * 0.44
    assert m.total_j == pytest.approx(want, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 30.0), st.floats(0.0, 0.5), st.sampled_from(["c2d", "d2c"]),
                          st.floats(0.0, 1e6)), min_size=1, max_size=40))
def test_states_sum_to_the_wall_time(messages):
    """Whatever the transmissions, time in the states is the wall time plus the promotion delays, and
    energy is positive and finite."""
    m, t = RadioMeter(LTE, 0.0), 0.0
    for gap, length, direction, nbytes in messages:
        t += gap
        m.on_transmission(t, t + length, direction, nbytes)
        t += length
    m.close(t + 15.0)
    assert m.state_s == pytest.approx(t + 15.0 + m.delay_s, rel=1e-9, abs=1e-9)
    assert 0 < m.total_j < math.inf


@pytest.mark.parametrize("network", ["5g-median", "5g-paper", "lte", "wifi-home", "5g-mmwave"])
def test_simulated_energy_equals_the_closed_form(scenario, network):
    """One user, no jitter: the simulation's radio state machine, compute and baseline give the closed
    form's energy a token within 1 %."""
    scn = scenario(link=load_link(network))
    m = simulate(scn, 64).metrics
    assert m["device_energy_j_per_token"] == pytest.approx(energy.split_energy(scn, 64).j_per_token, rel=0.01)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 0.2), st.floats(0.0, 0.2), st.integers(1, 32), st.integers(1, 32))
def test_energy_never_falls_with_rtt_or_adapted_layers(scenario_rtts, other, layers_a, layers_b):
    """More RTT or more adapted layers never lowers split's energy a token (5g-median's radio)."""
    from plmodel.io.profiles import load_hardware
    from plmodel.models import PRESETS
    from plmodel.specs import AdapterSpec, Scenario

    link = load_link("5g-median")
    lo, hi = sorted((scenario_rtts, other))
    fewer, more = sorted((layers_a, layers_b))
    hw = (load_hardware("a100-80g-pcie"), load_hardware("iphone-13-pro-max"))

    def j(rtt, n):
        a = AdapterSpec(64, 64, layers=tuple(range(n)))
        return energy.split_energy(Scenario(PRESETS["llama-2-7b"], a, *hw, replace(link, rtt_s=rtt)), 32).j_per_token

    assert j(hi, 16) >= j(lo, 16) * (1 - 1e-12)
    assert j(0.05, more) >= j(0.05, fewer) * (1 - 1e-12)


def test_break_even_is_where_energies_meet(scenario):
    """At the energy break-even RTT, split's energy a token equals the device-only one."""
    scn = scenario(link=load_link("5g-median"))
    v = estimate(scn, 64).energy
    assert v.device_only_bits == 4 and v.break_even_rtt_s > 0
    at = replace(scn, link=replace(scn.link, rtt_s=v.break_even_rtt_s))
    assert energy.split_energy(at, 64).j_per_token == pytest.approx(v.device_only.j_per_token, rel=1e-4)


def test_estimate_json_carries_the_energy_fields(scenario):
    """The flat record has the fields issue 12 names, positive and finite where they apply."""
    e = estimate(scenario(link=load_link("5g-median"))).flat()
    for key in ("device_energy_j_per_token", "device_only_energy_j_per_token", "cloud_only_device_energy_j_per_token",
                "energy_break_even_rtt_s", "tokens_per_battery_percent", "device_only_3bit_energy_j_per_token",
                "device_only_4bit_energy_j_per_token"):
        assert 0 < e[key] < math.inf, key


def test_no_power_profile_says_why(scenario):
    """A device without power figures gets no energy figures, and the reason."""
    scn = scenario()
    e = estimate(replace(scn, device=replace(scn.device, power=None))).flat()
    assert "device_energy_j_per_token" not in e and "power" in e["energy_reason"]


def test_every_shipped_radio_loads():
    """Every network profile's radio and every radio profile load, each with a positive connected power."""
    assert set(available("radio")) >= {"lte", "5g-lowband", "5g-mmwave", "wifi"}
    for name in available("network"):
        radio = load_link(name).radio
        assert radio is None or radio.connected_w > 0


@pytest.mark.parametrize("yaml_text,fragment", [
    ("radio: 6g\n", 'field "radio"'),
    ("radio: {connected_w: 1}\n", "mw_per_mbit_s_up"),
    ("radio: {connected_w: -1, mw_per_mbit_s_up: 1, mw_per_mbit_s_down: 1, inactivity_ms: 1, tail_s: 1, tail_w: 1,"
     " promotion_ms: 1, promotion_w: 1}\n", "connected_w"),
])
def test_bad_radio_is_refused(tmp_path, yaml_text, fragment):
    """A bad radio block is one error naming the file and the field."""
    p = tmp_path / "n.yaml"
    p.write_text("c2d_bandwidth_mbit_per_s: 10\nd2c_bandwidth_mbit_per_s: 10\nrtt_ms: 5\n" + yaml_text)
    with pytest.raises(PlmodelError, match=fragment):
        load_link(str(p))


def test_cloud_only_and_device_only_figures(scenario):
    """Cloud-only spends no compute on the device; device-only spends no radio; both take their time."""
    scn = scenario(link=load_link("5g-median"))
    c = energy.cloud_only_energy(scn, cloud_only(scn), 32)
    d = energy.device_only_energy(scn, device_only(scn, 4), 32)
    assert c.compute_j == 0 and c.radio_active_j > 0 and d.radio_active_j == d.radio_tail_j == 0
    assert d.wall_s == pytest.approx(128 / 58.0 + 31 / 8.1)


def test_paper_mode_past_the_context_has_no_energy_break_even(scenario):
    """The paper's accounting takes a prompt past the model's context (its prefill figure does); the
    realistic accounting the energy break-even needs refuses it, so there is none, and nothing fails."""
    from plmodel.analysis.estimate import estimate

    e = estimate(scenario(mode="paper", prompt_tokens=5000)).flat()
    assert e["energy_break_even_rtt_s"] is None and e["device_energy_j_per_token"] > 0
