"""The main job: JupyterLab serves the notebooks on localhost, token required, widgets extension loaded."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, token: str | None = None):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def lab(repository):
    port, token = _free_port(), "vislib-test-token"
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
            *(["--allow-root"] if os.geteuid() == 0 else []),
            f"--ServerApp.root_dir={repository / 'notebooks'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                _get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_notebooks_are_served_with_a_token(lab):
    base, token = lab
    status, body = _get(f"{base}/api/contents", token)
    assert status == 200
    assert "00_start_here.ipynb" in {item["name"] for item in json.loads(body)["content"]}
    status, page = _get(f"{base}/lab/tree/00_start_here.ipynb", token)
    assert status == 200 and "JupyterLab" in page


def test_requests_without_the_token_are_refused(lab):
    base, _ = lab
    with pytest.raises(urllib.error.HTTPError) as refused:
        _get(f"{base}/api/contents")
    assert refused.value.code == 403


def test_the_widgets_extension_is_loaded_by_the_page(lab):
    base, token = lab
    _, page = _get(f"{base}/lab/tree/00_start_here.ipynb", token)
    entry = re.search(r'"load": "([^"]+)", "name": "@jupyter-widgets/jupyterlab-manager"', page)
    assert entry, "JupyterLab's page does not load the ipywidgets extension"
    status, script = _get(f"{base}/lab/extensions/@jupyter-widgets/jupyterlab-manager/{entry.group(1)}", token)
    assert status == 200 and len(script) > 1000
