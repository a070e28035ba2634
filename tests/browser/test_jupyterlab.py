"""The notebooks as a person sees them: JupyterLab in a real Chromium, driven by Playwright.

For every notebook (``notebooks/NN_*.ipynb``, in the quick profile) and each style (default, projector):
start JupyterLab on a free localhost port with a token, open the notebook, *Run All*, and check

* no error output and no browser console error;
* every widget rendered (no "Loading widget...", no "model not found", no "Error displaying widget");
* every widget's picture is shown at its natural size (rendered at 2x, shown at half its pixel size:
  scale 1 +- 0.05) at 1440 and 1920 px window widths (or, where the output area is narrower or the window
  too short for the picture and its controls, shrunk as a whole without distortion);
* each widget's first slider (else toggle buttons, drop-down, checkbox) changes its picture; the end-to-end latency
  (key press or click -> new picture loaded) over ``MOVES`` moves is written to ``BENCHMARKS.md``;
* each widget, controls included, fits the notebook's height in a 1440 x 900 window (both styles);
* a screenshot of each widget goes to ``build/screenshots/<style>/<notebook>_widget<k>.png``.

A second, cheaper pass (``VISLIB_BROWSER_WIDGET_STYLES=projector``: what CI adds to its default-style run) shows
only the headline widgets, each built as the benchmark builds it (``vislib/tools/benchmark/registry.py``), in
one generated notebook: the same rendering, scale, fit and console checks, one control move each instead of
the latency series, and a screenshot of each into ``build/screenshots/<style>/headline_<widget>.png``.

Run with ``make test-browser`` (it sets ``VISLIB_BROWSER_TEST=1``); skipped otherwise, and skipped with a
message where Playwright or Chromium is missing (``apt-get install chromium``; no browser is downloaded).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: The styles to run in (``VISLIB_BROWSER_STYLES=default``: CI's subset, every notebook in the default style).
STYLES = tuple(os.environ.get("VISLIB_BROWSER_STYLES", "default,projector").replace(" ", "").split(","))
#: The styles of the headline-widgets-only pass (none unless set; CI: ``projector``).
WIDGET_STYLES = tuple(filter(None, os.environ.get("VISLIB_BROWSER_WIDGET_STYLES", "").replace(" ", "").split(",")))
SCREENSHOTS = REPOSITORY / "build" / "screenshots"
RESULTS = REPOSITORY / "build" / "browser"
HEADLINE_NOTEBOOK = "headline_widgets.ipynb"
CHROMIUM = os.environ.get("VISLIB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
WIDTHS = (1440, 1920)
MOVES = int(os.environ.get("VISLIB_BROWSER_MOVES", "20"))
RUN_TIMEOUT_S = float(os.environ.get("VISLIB_BROWSER_TIMEOUT", "900"))
BROKEN_WIDGET_TEXTS = ("Loading widget", "model not found", "Error displaying widget", "Failed to load model")


def _cannot_run(reason: str) -> None:
    """Skip with the reason on a person's machine; fail loudly in CI (``CI`` set), where a skip would hide it."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"the real-browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


if os.environ.get("VISLIB_BROWSER_TEST") != "1":
    pytest.skip("the real-browser test runs with `make test-browser`", allow_module_level=True)
if not set(STYLES) | set(WIDGET_STYLES) <= {"default", "projector"}:
    raise ValueError(f"VISLIB_BROWSER_(WIDGET_)STYLES must name 'default' and/or 'projector', got {STYLES}")
try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    _cannot_run("Playwright for Python is not installed (pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
    _cannot_run(
        f"no Chromium at {CHROMIUM}: install it (Debian/Ubuntu: apt-get install chromium) or set VISLIB_CHROMIUM"
    )


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and all it started: JupyterLab, its kernels, Chromium."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return float("nan")
    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _lab_settings(directory: Path) -> None:
    """User settings: every cell in the DOM (no windowing), no autosave, no news or update checks."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, values in settings.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module", params=STYLES)
def lab(request, tmp_path_factory):
    """JupyterLab on a copy of the notebooks (runs never write into the repository), in one style."""
    work = tmp_path_factory.mktemp(f"lab-{request.param}")
    notebooks = work / "notebooks"
    notebooks.mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, notebooks / path.name)
    yield from _serve(work, notebooks, request.param)


@pytest.fixture(scope="module", params=WIDGET_STYLES or [None])
def widget_lab(request, tmp_path_factory):
    """JupyterLab on one generated notebook that shows every registered headline widget, in one style."""
    if request.param is None:
        pytest.skip("the headline-widgets pass runs with VISLIB_BROWSER_WIDGET_STYLES=projector (and/or default)")
    work = tmp_path_factory.mktemp(f"widgets-{request.param}")
    notebooks = work / "notebooks"
    notebooks.mkdir()
    _write_headline_notebook(notebooks / HEADLINE_NOTEBOOK)
    yield from _serve(work, notebooks, request.param)


def _write_headline_notebook(path: Path) -> None:
    """One cell per registered headline widget, built by the benchmark's factory for it."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from vislib.tools.benchmark.registry import WIDGETS

    cells = [
        new_markdown_cell("# The headline widgets (written by tests/browser)", id="title"),
        new_code_cell("from vislib.tools.benchmark.timing import load_factory", id="imports"),
    ]
    for k, entry in enumerate(WIDGETS):
        cells.append(new_markdown_cell(f"## {entry.name}", id=f"name-{k}"))
        cells.append(new_code_cell(f"load_factory({entry.factory!r})()", id=f"widget-{k}"))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def _serve(work: Path, notebooks: Path, style: str):
    settings = work / "settings"
    _lab_settings(settings)
    port, token = _free_port(), f"vislib-browser-{os.getpid()}"
    env = {
        **os.environ,
        "VISLIB_PROFILE": "quick",
        "VISLIB_STYLE": style,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
    }
    log = (work / "lab.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands as the menus do
            *(["--allow-root"] if os.geteuid() == 0 else []),
            f"--ServerApp.root_dir={notebooks}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                request_ = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(request_, timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start within 120 s (log: {work / 'lab.log'})")
        yield {"base": base, "token": token, "style": style, "notebooks": notebooks}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


# -- in-page helpers -------------------------------------------------------------------------------------------
_RUN_STATE = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
        .map(p => p.textContent.trim());
    return {busy: prompts.filter(p => p.includes('*')).length,
            done: prompts.filter(p => /\\[\\d+\\]/.test(p)).length, cells: prompts.length};
}"""

_PICTURES = """() => [...document.querySelectorAll('.jp-Notebook img')].filter(img => img.naturalWidth > 0)
    .map(img => ({widget: img.classList.contains('vislib-picture'), naturalWidth: img.naturalWidth,
                  naturalHeight: img.naturalHeight, width: img.getBoundingClientRect().width,
                  height: img.getBoundingClientRect().height,
                  right: img.getBoundingClientRect().right,
                  area: img.closest('.jp-OutputArea-output').getBoundingClientRect().width,
                  // a widget as tall as the window allows (its picture may shrink to keep its controls in view)
                  heightBound: img.closest('.vislib-widget') !== null
                      && img.closest('.vislib-widget').getBoundingClientRect().height >= window.innerHeight - 133,
                  areaRight: img.closest('.jp-OutputArea-output').getBoundingClientRect().right}))"""

_PANEL_HEIGHT = """() => Math.round(document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer, '
    + '.jp-NotebookPanel-notebook').getBoundingClientRect().height)"""

_WATCH = """(index) => {
    const img = document.querySelectorAll('.vislib-widget img.vislib-picture')[index];
    window.__loads = [];
    img.addEventListener('load', () => window.__loads.push(performance.now()));
    return img.src;
}"""


def _run_all(page, name: str) -> None:
    """Wait for the notebook's kernel, then *Run → Run All Cells* (the menu's command)."""
    page.wait_for_function(
        f"() => window.jupyterapp?.shell.currentWidget?.context?.path === {json.dumps(name)}", timeout=120_000
    )
    page.evaluate(
        """async () => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.context.ready;
            await panel.sessionContext.ready;
            while (!panel.sessionContext.session?.kernel || panel.sessionContext.session.kernel.status !== 'idle') {
                await new Promise(resolve => setTimeout(resolve, 200));
            }
            window.jupyterapp.commands.execute('notebook:run-all-cells');
        }"""
    )


def _wait_until_run(page) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    page.wait_for_function("() => document.querySelectorAll('.jp-InputPrompt').length > 0", timeout=120_000)
    time.sleep(2)
    stable = 0
    while time.monotonic() < deadline:
        state = page.evaluate(_RUN_STATE)
        stable = stable + 1 if state["busy"] == 0 else 0
        if stable >= 3:
            return state
        time.sleep(1)
    pytest.fail(f"Run All did not finish within {RUN_TIMEOUT_S:.0f} s")


def _saved_notebook(page, path: Path):
    """Save (into the run's copy of the notebooks) and read back: the outputs as the kernel sent them."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    time.sleep(2)
    return nbformat.read(path, as_version=4)


def _slider_handles(page, index: int):
    widget = page.locator(".vislib-widget").nth(index)
    return widget.locator(".widget-slider:not(.mod-disabled) .noUi-handle, .widget-hslider .noUi-handle")


def _control_moves(page, index: int):
    """How a person moves the widget's first control, as ``move(k)`` for k = 0, 1, ...: arrow keys on its first
    slider that has more than one value (a slider over one image of a barely trained model cannot move); else
    clicks on its first toggle buttons (between the selected option and the next); else its first drop-down
    (between two options); else its first checkbox. ``None`` for a widget without any."""
    widget = page.locator(".vislib-widget").nth(index)
    handles = _slider_handles(page, index)
    movable = [
        handles.nth(k)
        for k in range(handles.count())
        if handles.nth(k).get_attribute("aria-valuemin") != handles.nth(k).get_attribute("aria-valuemax")
    ]
    if movable:
        handle = movable[0]
        handle.focus()
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        keys = ["ArrowLeft", "ArrowRight"] if at_max else ["ArrowRight", "ArrowLeft"]
        return lambda move: page.keyboard.press(keys[move % 2])
    buttons = widget.locator(".widget-toggle-buttons").first.locator("button:not([disabled])")
    if buttons.count() >= 2:
        texts = buttons.all_inner_texts()
        selected = next((k for k in range(len(texts)) if "mod-active" in buttons.nth(k).get_attribute("class")), 0)
        order = [(selected + 1) % len(texts), selected]
        return lambda move: buttons.nth(order[move % 2]).click()
    select = widget.locator(".widget-dropdown select:not([disabled])").first
    if select.count() and select.locator("option").count() >= 2:
        current = select.evaluate("s => s.selectedIndex")
        order = [(current + 1) % select.locator("option").count(), current]
        return lambda move: select.select_option(index=order[move % 2])
    checkbox = widget.locator(".widget-checkbox input[type=checkbox]:not([disabled])").first
    if checkbox.count():
        return lambda move: checkbox.click()  # on, off, on, ...
    return None


def _measure_latency(page, index: int, move_control) -> list[float]:
    """Move the widget's first control back and forth; the time from each move to the new picture's load."""
    page.evaluate(_WATCH, index)
    latencies = []
    for move in range(MOVES):
        before = page.evaluate("window.__loads.length")
        start = page.evaluate("performance.now()")
        move_control(move)
        page.wait_for_function(f"window.__loads.length > {before}", timeout=15_000)
        latencies.append(page.evaluate("window.__loads[window.__loads.length - 1]") - start)
        time.sleep(0.05)
    return latencies


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_its_widgets_work_in_chromium(lab, browser, notebook):
    style = lab["style"]
    started, cpu_at_start, load_at_start = time.monotonic(), _cpu_seconds(), os.getloadavg()[0]
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        # A workspace of its own, reset: no tab of an earlier notebook is restored.
        page.goto(f"{lab['base']}/lab/workspaces/{notebook.stem}/tree/{notebook.name}?reset&token={lab['token']}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        _run_all(page, notebook.name)
        state = _wait_until_run(page)
        saved = _saved_notebook(page, lab["notebooks"] / notebook.name)
        errors = [
            f"cell {cell.id}: {output.ename}: {output.evalue}"
            for cell in saved.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            if output.output_type == "error"
        ]
        assert not errors, errors
        assert state["done"] == state["cells"], f"cells run: {state}"
        text = page.locator(".jp-Notebook").inner_text()
        broken = [phrase for phrase in BROKEN_WIDGET_TEXTS if phrase in text]
        assert not broken, f"widgets not rendered: {broken}"

        widgets = page.locator(".vislib-widget")
        count = widgets.count()
        report = {"notebook": notebook.stem, "style": style, "widgets": [], "scales": {}}
        _check_picture_scales(page, report)
        shots = SCREENSHOTS / style
        shots.mkdir(parents=True, exist_ok=True)
        report["panel_height"] = page.evaluate(_PANEL_HEIGHT)
        report["boxes"] = []
        too_large = []
        for index in range(count):
            widget = widgets.nth(index)
            too_large.append(
                _screenshot_and_check_fit(page, widget, shots / f"{notebook.stem}_widget{index}.png", report, index)
            )
            move_control = _control_moves(page, index)
            assert move_control is not None, f"widget {index}: no slider, toggle buttons, drop-down or checkbox"
            before = page.locator(".vislib-widget img.vislib-picture").nth(index).get_attribute("src")
            latencies = _measure_latency(page, index, move_control)
            after = page.locator(".vislib-widget img.vislib-picture").nth(index).get_attribute("src")
            assert after != before or len(latencies) == MOVES, "the slider did not change the picture"
            ordered = sorted(latencies)
            report["widgets"].append(
                {
                    "index": index,
                    "moves": len(latencies),
                    "median_ms": round(statistics.median(latencies), 1),
                    "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
                }
            )
        # Wall time under the machine's load, and the CPU time it took (kernel, JupyterLab, Chromium, Playwright):
        # on a loaded machine the CPU time is the figure to compare.
        report["wall_s"] = round(time.monotonic() - started, 1)
        report["cpu_s"] = round(_cpu_seconds() - cpu_at_start, 1)
        report["load"] = [round(load_at_start, 1), round(os.getloadavg()[0], 1)]
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{notebook.stem}_{style}.json").write_text(json.dumps(report, indent=1))
        assert not console_errors, f"browser console errors: {console_errors}"
        assert not any(too_large), [message for message in too_large if message]
    finally:
        context.close()
        _shut_down_kernels(lab)


def test_headline_widgets_render_fit_and_respond_in_chromium(widget_lab, browser):
    """The cheap pass over one style: every registered headline widget in one generated notebook (built as the
    benchmark builds it), checked as above, one control move each; screenshots ``headline_<widget>.png``."""
    from vislib.tools.benchmark.registry import WIDGETS

    lab, style = widget_lab, widget_lab["style"]
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        page.goto(f"{lab['base']}/lab/workspaces/headline/tree/{HEADLINE_NOTEBOOK}?reset&token={lab['token']}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        _run_all(page, HEADLINE_NOTEBOOK)
        _wait_until_run(page)
        saved = _saved_notebook(page, lab["notebooks"] / HEADLINE_NOTEBOOK)
        errors = [
            f"cell {cell.id}: {output.ename}: {output.evalue}"
            for cell in saved.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            if output.output_type == "error"
        ]
        assert not errors, errors
        text = page.locator(".jp-Notebook").inner_text()
        assert not [phrase for phrase in BROKEN_WIDGET_TEXTS if phrase in text], "widgets not rendered"
        widgets = page.locator(".vislib-widget")
        assert widgets.count() == len(WIDGETS), f"{widgets.count()} widgets shown, {len(WIDGETS)} registered"
        report = {"notebook": "headline widgets", "style": style, "widgets": [], "scales": {}}
        _check_picture_scales(page, report)
        shots = SCREENSHOTS / style
        shots.mkdir(parents=True, exist_ok=True)
        report["panel_height"] = page.evaluate(_PANEL_HEIGHT)
        report["boxes"] = []
        too_large, unchanged = [], []
        for index, entry in enumerate(WIDGETS):
            name = re.sub(r"[^a-z0-9]+", "_", entry.name.lower()).strip("_")
            message = _screenshot_and_check_fit(page, widgets.nth(index), shots / f"headline_{name}.png", report, index)
            too_large.append(message and f"{entry.name}: {message}")
            move_control = _control_moves(page, index)
            assert move_control is not None, f"{entry.name}: no slider, toggle buttons, drop-down or checkbox"
            picture = page.locator(".vislib-widget img.vislib-picture").nth(index)
            before = picture.get_attribute("src")
            page.evaluate(_WATCH, index)
            move_control(0)
            try:
                page.wait_for_function("window.__loads.length > 0", timeout=15_000)
            except PlaywrightTimeout:
                unchanged.append(entry.name)
            if picture.get_attribute("src") == before:
                unchanged.append(entry.name)
        (SCREENSHOTS / style / "headline_widgets.json").write_text(json.dumps(report, indent=1))
        assert not console_errors, f"browser console errors: {console_errors}"
        assert not unchanged, f"a control move did not change the picture of {unchanged}"
        assert not any(too_large), [message for message in too_large if message]
    finally:
        context.close()
        _shut_down_kernels(lab)


def _check_picture_scales(page, report: dict) -> None:
    """At each window width: every picture undistorted, inside its output area, and at its natural size
    (or shrunk as a whole where the area is narrower); the scales and areas go into ``report``. Ends at 1440 x 900."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900 if width == 1440 else 1080})
        time.sleep(1)
        pictures = page.evaluate(_PICTURES)
        scales = []
        for picture in pictures:
            natural_css = picture["naturalWidth"] / 2
            scale = picture["width"] / natural_css
            aspect = (picture["width"] / picture["height"]) / (picture["naturalWidth"] / picture["naturalHeight"])
            assert abs(aspect - 1) < 0.02, f"distorted picture {picture}"
            # (4 px: the widget's own 2 px margin)
            assert picture["right"] <= picture["areaRight"] + 4, f"{width} px: picture overflows: {picture}"
            if natural_css > picture["area"]:  # a narrower output area shrinks it as a whole
                assert scale < 1.0, picture
            elif picture["heightBound"]:  # as tall as the window allows: natural size, or shrunk as a whole
                assert scale <= 1.05, f"{width} px: picture shown at {scale:.2f}x: {picture}"
            else:  # room for it: natural size
                assert abs(scale - 1) <= 0.05, f"{width} px: picture shown at {scale:.2f}x: {picture}"
            scales.append(round(scale, 3))
        report["scales"][width] = scales
        report.setdefault("areas", {})[width] = sorted({round(p["area"]) for p in pictures if p["widget"]})
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    time.sleep(1)


def _screenshot_and_check_fit(page, widget, path: Path, report: dict, index) -> str | None:
    """Screenshot one widget (1440 x 900 window); a message if it does not fit the notebook's height with its
    controls (checked at the end, so that the other widgets are still measured)."""
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(path))
    box = widget.bounding_box()
    report["boxes"].append([round(box["width"]), round(box["height"])])
    if box["height"] <= report["panel_height"]:
        return None
    return (
        f"{report['style']} style: widget {index} is {box['width']:.0f} x {box['height']:.0f} px; "
        f"the notebook shows {report['panel_height']} px of a 1440 x 900 window"
    )


def _shut_down_kernels(lab) -> None:
    """Free the CPU and memory of the notebook's kernel before the next notebook."""
    headers = {"Authorization": f"token {lab['token']}"}
    with urllib.request.urlopen(urllib.request.Request(f"{lab['base']}/api/kernels", headers=headers)) as response:
        kernels = json.loads(response.read())
    for kernel in kernels:
        request = urllib.request.Request(f"{lab['base']}/api/kernels/{kernel['id']}", headers=headers, method="DELETE")
        urllib.request.urlopen(request).close()
