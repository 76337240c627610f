"""The lever explorer (issue 14, item 2): its likelihoods are the API's, in Python and in the served page.

The page test serves ``notebooks/05_explore_levers.ipynb`` with Voilà, opens it in Debian's
headless Chromium (no browser a tool downloads) and drives it through the DevTools protocol: it
waits for the likelihood table, clicks the track of the zombie-teams slider as a user would, and
checks that the likelihood shown for the zombie goal becomes the one ``simulate`` gives for the
scenario with the value the slider now shows, at the page's seed and replications.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from model import DEFAULT_SEED, load_scenario, simulate
from model.explorer import Explorer
from model.variants import levers_variant
from tests.paths import PLAN

ROOT = Path(__file__).resolve().parents[1]
N = 600
ZOMBIES = "overcapacity.zombie_disposed.2019"


def test_a_moved_control_gives_the_likelihood_of_a_fresh_run_of_that_scenario():
    page = Explorer([PLAN], replications=N)
    page.controls["overcapacity.teams"].value = 25
    page.controls["green.inspection"].value = False
    changes = page.changes()
    assert changes == {"overcapacity.teams": 25, "green.inspection": False}
    fresh = simulate(levers_variant(load_scenario(PLAN), changes), N, DEFAULT_SEED)
    for target_id in (ZOMBIES, "green.energy_intensity_cut.2020"):
        assert page.current.probability(target_id) == fresh.probability(target_id)
        assert f"data-target='{target_id}' data-p='{fresh.probability(target_id):.6f}'" in page.table.value
    assert bytes(page.chart.value).startswith(b"\x89PNG")
    page.controls["overcapacity.teams"].value = 10  # back to the scenario's own: nothing moved
    page.controls["green.inspection"].value = True
    assert page.changes() == {} and page.current is page.base


# -- the served page in a real browser -----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


class DevTools:
    """A minimal Chrome DevTools Protocol session over one page's websocket."""

    def __init__(self, ws):
        self.ws, self.ids = ws, itertools.count(1)

    async def call(self, method: str, **params):
        n = next(self.ids)
        await self.ws.write_message(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.read_message())
            if message.get("id") == n:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]

    async def js(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value not in (None, "", False):
                return value
            await asyncio.sleep(0.5)
        raise TimeoutError(expression)


P_OF = f"document.querySelector(\"td[data-target='{ZOMBIES}']\")?.dataset.p"
TRACK = "document.querySelector('.lever-overcapacity-teams .noUi-target, .lever-overcapacity-teams .slider-container')"


async def _drive(port: int) -> tuple[float, float, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
        pages = [p for p in json.load(response) if p["type"] == "page"]
    ws = await websocket_connect(pages[0]["webSocketDebuggerUrl"], max_message_size=1 << 26)
    tools = DevTools(ws)
    before = float(await tools.wait_for(P_OF, 240))
    box = await tools.wait_for(f"(() => {{ const r = {TRACK}.getBoundingClientRect(); "
                               "return JSON.stringify([r.left, r.top, r.width, r.height]); })()", 30)
    left, top, width, height = json.loads(box)
    x, y = left + 0.75 * width, top + height / 2  # three quarters along the track: about 30 teams
    for kind in ("mousePressed", "mouseReleased"):
        await tools.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    moved = f"(() => {{ const p = {P_OF}; return p && p !== '{before:.6f}' ? p : null; }})()"
    after = float(await tools.wait_for(moved, 120))
    shown = await tools.js("document.querySelector('.lever-overcapacity-teams .widget-readout').textContent")
    ws.close()
    return before, after, int(str(shown).strip())


@pytest.mark.slow
def test_the_served_page_shows_the_api_likelihood_after_a_slider_moves(tmp_path):
    assert shutil.which("chromium"), "Debian's chromium is missing: ./setup.sh test installs it"
    voila_port, chrome_port = _free_port(), _free_port()
    env = {**os.environ, "EXPLORER_REPLICATIONS": str(N), "EXPLORER_LANG": "en",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    voila = subprocess.Popen([sys.executable, "-m", "voila", "notebooks/05_explore_levers.ipynb", "--no-browser",
                              f"--port={voila_port}", "--Voila.ip=127.0.0.1"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chrome = None
    try:
        _wait_http(f"http://127.0.0.1:{voila_port}/", 60)
        chrome = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                   "--window-size=1400,1800", f"--remote-debugging-port={chrome_port}",
                                   f"--user-data-dir={tmp_path / 'profile'}", f"http://127.0.0.1:{voila_port}/"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_http(f"http://127.0.0.1:{chrome_port}/json/version", 30)
        before, after, teams = asyncio.run(_drive(chrome_port))
    finally:
        for process in (chrome, voila):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
    plan = load_scenario(PLAN)
    assert before == pytest.approx(simulate(plan, N, DEFAULT_SEED).probability(ZOMBIES), abs=5e-7)
    assert teams != 10  # the slider moved from the scenario's 10 teams
    expected = simulate(levers_variant(plan, {"overcapacity.teams": teams}), N, DEFAULT_SEED).probability(ZOMBIES)
    assert after == pytest.approx(expected, abs=5e-7)  # data-p holds six decimals
