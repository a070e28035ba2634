from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repository() -> Path:
    return REPOSITORY


@pytest.fixture(autouse=True)
def _everyday_style():
    """Tests that switch to the projector style must not leak it into others."""
    from vislib.plotting import default_style

    default_style()
    yield
    default_style()
