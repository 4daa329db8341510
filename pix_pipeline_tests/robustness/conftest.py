"""Fixtures of the robustness suite."""

from typing import Any

import pytest

from pix_pipeline_tests.robustness.snapshots import deliver, environment, run_in_process, snapshot


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The uninterrupted run."""
    root = tmp_path_factory.mktemp("reference") / "storage"
    env = environment(root, f"sqlite:///{root.parent}/registry.sqlite3")
    deliver(root, env)
    run_in_process(env)
    return snapshot(root, env)
