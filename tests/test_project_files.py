"""The set-up files agree with each other and with the design card."""

import re
import subprocess
import sys

import nbformat
import pytest
import tomllib
import yaml

# The design card's stack, as (pip name, conda name).
DESIGN_CARD = {
    "JupyterLab 4": ("jupyterlab", "jupyterlab"),
    "ipywidgets 8": ("ipywidgets", "ipywidgets"),
    "PyTorch": ("torch", "pytorch"),
    "torchvision": ("torchvision", "torchvision"),
    "matplotlib": ("matplotlib", "matplotlib"),
    "OpenCV": ("opencv-contrib-python-headless", "opencv-contrib-python-headless"),
    "pytest": ("pytest", "pytest"),
    "nbval": ("nbval", "nbval"),
}
CONDA_NAMES = {"torch": "pytorch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


@pytest.fixture(scope="module")
def pyproject(repository):
    return tomllib.loads((repository / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def conda(repository):
    environment = yaml.safe_load((repository / "environment.yml").read_text())
    names, pip_names = set(), set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip_names |= {_name(item) for item in entry["pip"] if not item.startswith("-")}
        else:
            names.add(_name(entry))
    assert environment["channels"] == ["conda-forge"]
    return names | pip_names


def _pip_requirements(pyproject):
    project = pyproject["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


@pytest.mark.parametrize("package", DESIGN_CARD)
def test_design_card_packages_are_in_both_files(package, pyproject, conda):
    pip_name, conda_name = DESIGN_CARD[package]
    assert pip_name in {_name(r) for r in _pip_requirements(pyproject)}, f"{package} missing from pyproject.toml"
    assert conda_name in conda, f"{package} missing from environment.yml"


def test_every_pip_requirement_is_in_the_conda_file(pyproject, conda):
    missing = [r for r in _pip_requirements(pyproject) if CONDA_NAMES.get(_name(r), _name(r)) not in conda]
    assert not missing, f"in pyproject.toml but not environment.yml: {missing}"


def test_major_versions_match_the_design_card(pyproject):
    requirements = {_name(r): r for r in _pip_requirements(pyproject)}
    assert "<5" in requirements["jupyterlab"] and ">=4" in requirements["jupyterlab"]
    assert "<9" in requirements["ipywidgets"] and ">=8" in requirements["ipywidgets"]
    assert "pycocotools" not in {_name(r) for r in pyproject["project"]["dependencies"]}, "a test oracle only"


def test_readme_commands_exist_and_ci_runs_the_test_command(repository):
    readme = (repository / "README.md").read_text()
    makefile = (repository / "Makefile").read_text()
    for command in ("make lab", "make test", "make check NB=", "conda env create -f environment.yml"):
        assert command in readme, f"README must document `{command}`"
    for target in ("lab", "test", "check", "student-notebooks", "benchmark"):
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no `{target}` target"
        assert f"make {target}" in readme, f"README must mention `make {target}`"
    ci = [line for line in (repository / ".ci/run").read_text().splitlines() if line and not line.startswith("#")]
    assert "make test" in ci, ".ci/run must call the README's test command"
    assert any(line.startswith("make test-browser") for line in ci), ".ci/run must run the real-browser test"
    assert re.search(r"^test-browser:", makefile, re.M) and "make test-browser" in readme


def test_design_card_layout(repository):
    for path in (
        "notebooks",
        "vislib",
        "assets",
        "tests",
        "environment.yml",
        "README.md",
        "pyproject.toml",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
        ".ci/run",
    ):
        assert (repository / path).exists(), path


def _committed_notebooks(repository):
    """``(path, text)`` of every notebook as committed: the git index (what the next commit holds), so a
    notebook JupyterLab saved with outputs into the working tree does not fail the tests; outside a git
    checkout (an unpacked archive), the files themselves."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "notebooks/*.ipynb"], cwd=repository, capture_output=True, text=True
    )
    if listed.returncode != 0:
        return [(path, path.read_text()) for path in sorted((repository / "notebooks").rglob("*.ipynb"))]
    committed = []
    for name in sorted(filter(None, listed.stdout.split("\0"))):
        text = subprocess.run(
            ["git", "show", f":{name}"], cwd=repository, capture_output=True, text=True, check=True
        ).stdout
        committed.append((repository / name, text))
    return committed


def test_committed_notebooks_carry_no_outputs_and_named_cells(repository):
    committed = _committed_notebooks(repository)
    assert any(path.name == "00_start_here.ipynb" for path, _ in committed)
    for path, text in committed:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# "), path.name
        for cell in notebook.cells:
            assert not re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{8,}", cell.id), (
                f"{path.name}: give cell {cell.id} a readable id (it is its anchor)"
            )
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs in {cell.id}"


def test_start_here_maps_every_notebook(repository):
    start = (repository / "notebooks/00_start_here.ipynb").read_text()
    for path in sorted((repository / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"`{path.stem}`" in start, f"the course map in 00_start_here lacks {path.stem}"


def test_notebook_links_lead_somewhere_and_every_notebook_links_the_next(repository):
    """Relative links between notebooks resolve (in notebooks/ and in student/), and each notebook but the last
    links the next one (no dead "Next" links)."""
    paths = sorted((repository / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths + sorted((repository / "notebooks/student").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.reads(path.read_text(), as_version=4)
        text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", text):
            assert (path.parent / target).is_file(), f"{path.name} links {target}, which does not exist"
        if path.parent.name == "notebooks" and path != paths[-1]:
            following = paths[paths.index(path) + 1].name
            assert f"]({following})" in text, f"{path.name} does not link the next notebook, {following}"


def test_widget_extension_is_installed_for_jupyterlab():
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True, timeout=120
    )
    text = listing.stdout + listing.stderr
    assert "@jupyter-widgets/jupyterlab-manager" in text and "enabled" in text, text


def test_make_strip_removes_outputs_in_the_repository_format(tmp_path, repository):
    from vislib.tools import strip_outputs

    committed = dict(_committed_notebooks(repository))[repository / "notebooks/00_start_here.ipynb"]
    notebook = nbformat.reads(committed, as_version=4)
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    code.execution_count = 3
    code.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    path = tmp_path / "run.ipynb"
    nbformat.write(notebook, path)
    assert strip_outputs.main(["--check", str(path)]) == 1
    assert strip_outputs.main([str(path)]) == 0
    assert path.read_text() == committed  # byte-equal to the committed notebook
    assert strip_outputs.main(["--check", str(path)]) == 0
