"""The code location loads as the UI loads it, with the names the README promises."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pix_pipeline.definitions import build_definitions, defs
from pix_pipeline.settings import load_settings

PROJECT = Path(__file__).resolve().parents[1]


def test_definitions_load_with_every_asset_job_and_sensor(pix_root: Path):
    loaded = defs()
    dg.Definitions.validate_loadable(loaded)
    keys = {key.to_user_string() for key in loaded.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "final_input",
        "thumbs",
        "privacy",
        "depth",
        "semantics",
        "cleanup",
        "image_meta",
        "job_expose",
        "gallery",
        "released_gallery",
    }
    graph = loaded.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    # Left to right as the brief's flow: intake -> per-image steps -> job outputs -> release.
    assert groups["final_input"] == "intake"
    assert {groups[s] for s in ("thumbs", "privacy", "depth", "semantics", "cleanup")} == {
        "per_image_steps"
    }
    assert {groups[s] for s in ("image_meta", "job_expose", "gallery")} == {"job_outputs"}
    assert groups["released_gallery"] == "release"
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:pix"] and node.kinds, key
        assert node.description, key
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == {
        ("privacy", "privacy_findings"),
        ("image_meta", "no_image_stuck_pending"),
        ("image_meta", "no_image_failed"),
        ("job_expose", "job_expose_schema"),
        ("gallery", "gallery_matches_images"),
        ("released_gallery", "customer_notified"),
    }
    sensor = loaded.resolve_sensor_def("final_input_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    outbox = loaded.resolve_sensor_def("notification_outbox_sensor")
    assert outbox.default_status == dg.DefaultSensorStatus.RUNNING
    assert outbox.minimum_interval_seconds == 30 and outbox.description
    retry = loaded.resolve_job_def("retry_notifications")
    assert retry.partitions_def is not None and retry.partitions_def.name == "pix_jobs"
    release = loaded.resolve_job_def("release_gallery")
    assert release.partitions_def is not None and release.partitions_def.name == "pix_jobs"
    process = loaded.resolve_job_def("process_pix_job")
    assert process.partitions_def is not None and process.partitions_def.name == "pix_jobs"


def test_sensor_interval_comes_from_settings(pix_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIX_SENSOR_INTERVAL_SECONDS", "7")
    loaded = build_definitions(load_settings())
    assert loaded.resolve_sensor_def("final_input_sensor").minimum_interval_seconds == 7


def test_release_config_offers_approver_note_and_privacy_acknowledgement(pix_root: Path):
    op = defs().resolve_job_def("release_gallery").graph.node_dict["release_job_gallery"]
    config_fields = op.definition.config_schema.config_type.fields
    assert set(config_fields) == {"approved_by", "note", "acknowledge_privacy_findings"}
    assert config_fields["acknowledge_privacy_findings"].default_value is False


def test_revoke_job_is_partitioned_and_asks_who_and_why(pix_root: Path):
    job = defs().resolve_job_def("revoke_gallery")
    assert job.partitions_def is not None and job.partitions_def.name == "pix_jobs"
    op = job.graph.node_dict["revoke_job_gallery"]
    assert set(op.definition.config_schema.config_type.fields) == {"revoked_by", "note"}


def python_with_bad_setting(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter whose environment holds one bad PIX_* value."""
    env = {"PATH": "/usr/bin:/bin", "PIX_SETTLE_SECONDS": "later", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_bad_setting_stops_the_code_location_with_the_variable_named(tmp_path: Path):
    proc = python_with_bad_setting("from pix_pipeline.definitions import defs; defs()", tmp_path)
    assert proc.returncode != 0
    assert "PIX_SETTLE_SECONDS must be a number, got 'later'" in proc.stderr


def test_importing_the_project_reads_no_settings(tmp_path: Path):
    proc = python_with_bad_setting("import pix_pipeline.definitions", tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_the_local_backend_loads_no_s3_libraries(tmp_path: Path):
    """Every Dagster process builds the definitions; boto3 and dagster-aws stay out of those
    that keep photos on the local disk."""
    code = (
        "import sys; from pix_pipeline.definitions import build_definitions;"
        " from pix_pipeline.settings import load_settings;"
        f" build_definitions(load_settings({{'PIX_LOCAL_ROOT': {str(tmp_path)!r}}}));"
        " print(sorted(m for m in ('boto3', 'botocore', 'dagster_aws') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
