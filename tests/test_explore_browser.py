"""The explorer in a real browser: `plmodel explore --no-browser` started as a user starts it, driven by headless
Chromium (Debian's chromium and chromium-driver; nothing downloaded), its figures checked against the CLI's for
the same scenario, and screenshots of its views saved (to a temporary folder; to docs/screenshots/ with
PLMODEL_SCREENSHOTS=docs/screenshots, to refresh the docs' images: a test run leaves the tracked files alone)."""

import io
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the explore extra is not installed: pip install 'plmodel[explore]'")
pytest.importorskip("selenium", reason="selenium is not installed: pip install 'plmodel[explore-test]'")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from plmodel.explore import views  # noqa: E402
from plmodel.explore.scenario import Choices, estimate_command  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("PLMODEL_SCREENSHOTS") or Path(tempfile.gettempdir()) / "plmodel-screenshots")
BOUND_S = 180  # generous: a cold start on a loaded two-core machine takes a few seconds
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM, reason="no chromium on PATH (apt-get install chromium)"),
              pytest.mark.skipif(not DRIVER, reason="no chromedriver on PATH (apt-get install chromium-driver)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`plmodel explore --no-browser --port N` in its own process group: (url, its start time); stopped after."""
    port = free_port()
    log = open(tmp_path / "explore.log", "w")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "plmodel", "explore", "--no-browser", "--port", str(port)],
                            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield f"http://localhost:{port}", start
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(20)
    log.close()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    yield driver
    driver.quit()


def wait_for(condition, what: str, bound_s: float = BOUND_S):
    """Poll `condition()` until it gives something truthy; fail naming `what` after `bound_s`."""
    end, last = time.monotonic() + bound_s, None
    while time.monotonic() < end:
        try:
            got = condition()
        except Exception as exc:  # noqa: BLE001 (the page is rerunning: elements come and go)
            got, last = None, exc
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"gave up after {bound_s} s waiting for {what} (last error: {last!r})")


def shown(driver) -> list:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".st-key-headline [data-testid='stMetricValue']")]


def idle(driver) -> bool:
    """The script has finished its run: no 'running' status, nothing greyed out as stale."""
    return not driver.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget'], [data-stale='true']")


def cli_headline(c: Choices) -> list:
    """The headline figures of `plmodel estimate --json` for `c`, written as the page writes them."""
    args = shlex.split(estimate_command(c, json=True))[1:]
    out = subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, check=True)
    return [text for _, text, _ in views.headline(json.loads(out.stdout))]


def settle(driver, expected: list, what: str) -> None:
    wait_for(lambda: shown(driver) == expected, what)
    wait_for(lambda: idle(driver), f"the page to finish its run after {what}")


def screenshot(driver, name: str) -> Path:
    """The window as a small PNG (a palette of 64 colours) in SHOTS."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    path = SHOTS / f"{name}.png"
    image.quantize(64).save(path, optimize=True)
    return path


def open_tab(driver, label: str, evidence: str) -> None:
    tab = wait_for(lambda: next(t for t in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stTab']")
                                if t.text.strip() == label), f"the {label} tab")
    tab.click()
    driver.execute_script("arguments[0].scrollIntoView()", tab)
    wait_for(lambda: evidence in driver.find_element(By.CSS_SELECTOR, "[role='tabpanel']:not([hidden])").text
             and idle(driver), f"the {label} tab to show {evidence!r}")
    wait_for(lambda: all(i.get_attribute("complete") == "true" and int(i.get_attribute("naturalWidth")) > 0
                         for i in driver.find_elements(By.CSS_SELECTOR, "[role='tabpanel']:not([hidden]) img")),
             f"the {label} tab's figures")


def test_the_page_shows_the_clis_figures_and_follows_rtt_and_model(server, browser):
    """The first view shows estimate's figures; a new RTT, then a new model, show the CLI's for them."""
    url, start = server
    wait_for(lambda: browser.get(url) or True, "the server to answer")
    settle(browser, cli_headline(Choices()), "the first view's figures")
    first_view_s = time.monotonic() - start
    print(f"first view after {first_view_s:.1f} s")
    external = [u for u in browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
                if not u.startswith(url) and not u.startswith(("data:", "blob:"))]
    assert not external, external
    assert first_view_s < BOUND_S

    rtt = browser.find_element(By.CSS_SELECTOR, ".st-key-rtt_ms input")
    rtt.send_keys("20", Keys.ENTER)
    settle(browser, cli_headline(Choices(rtt_ms=20.0)), "the figures at 20 ms")
    model = browser.find_element(By.CSS_SELECTOR, ".st-key-model input")
    model.send_keys("llama-2-13b", Keys.ENTER)
    settle(browser, cli_headline(Choices(model="llama-2-13b", rtt_ms=20.0)), "the figures of 13B at 20 ms")
    command = browser.find_element(By.CSS_SELECTOR, "[data-testid='stCode']").text
    assert command.strip() == estimate_command(Choices(model="llama-2-13b", rtt_ms=20.0))
    model = browser.find_element(By.CSS_SELECTOR, ".st-key-model input")
    model.send_keys("llama-2-7b", Keys.ENTER)  # back to 7B for the screenshots: it has a device-only yardstick
    settle(browser, cli_headline(Choices(rtt_ms=20.0)), "the figures of 7B at 20 ms")

    shots = {"step": ("Decode step", "figure (PNG)"), "rtt": ("RTT", "curves (CSV)"),
             "plan": ("Plan", "recommendation"), "fleet": ("Fleet", "plmodel capacity")}
    for name, (label, evidence) in shots.items():
        open_tab(browser, label, evidence)
        assert screenshot(browser, f"explore-{name}").stat().st_size < 400_000

    # An uploaded network profile replaces the shipped one: the page's figures are the CLI's for that file.
    upload = Path(tempfile.mkdtemp()) / "my-net.yaml"
    upload.write_text("c2d_bandwidth_mbit_per_s: 50\nd2c_bandwidth_mbit_per_s: 8\nrtt_ms: 7\n")
    browser.find_element(By.CSS_SELECTOR, ".st-key-network_upload input[type='file']").send_keys(str(upload))
    saved = Path(tempfile.gettempdir()) / "plmodel-explore" / "network" / "my-net.yaml"
    settle(browser, cli_headline(Choices(network=str(saved), rtt_ms=20.0)), "the figures on the uploaded network")
