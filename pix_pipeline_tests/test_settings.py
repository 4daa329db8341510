"""PIX_* settings: safe defaults, and a bad value fails with a message naming the variable."""

from pathlib import Path

import pytest

from pix_pipeline.analysis.factory import build_providers
from pix_pipeline.runtime import build_notifier
from pix_pipeline.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_local_setup(tmp_path: Path):
    s = load_settings({}, cwd=tmp_path)
    assert s.storage_backend == "local"
    assert s.local_root == tmp_path / "storage"
    assert s.database_url == f"sqlite:///{tmp_path / 'storage' / 'pix_registry.sqlite3'}"
    assert (s.depth_enabled, s.settle_seconds, s.sensor_interval_seconds) == (False, 5.0, 30)
    assert (s.privacy_provider, s.semantics_provider, s.cleanup_provider) == (
        "local",
        "none",
        "rules",
    )
    assert s.image_workers >= 1 and s.max_run_attempts == 3


def test_values_are_parsed_into_types(tmp_path: Path):
    s = load_settings(
        {
            "PIX_LOCAL_ROOT": str(tmp_path / "r"),
            "PIX_DEPTH_ENABLED": "YES",
            "PIX_SETTLE_SECONDS": "0.5",
            "PIX_SENSOR_INTERVAL_SECONDS": "10",
            "PIX_DATABASE_URL": "postgresql+psycopg://u:secret@db:5432/pix",
        },
        cwd=tmp_path,
    )
    assert s.local_root == tmp_path / "r"
    assert s.depth_enabled is True and s.settle_seconds == 0.5 and s.sensor_interval_seconds == 10
    assert s.database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PIX_SETTLE_SECONDS", "soon", "PIX_SETTLE_SECONDS must be a number, got 'soon'"),
        ("PIX_SETTLE_SECONDS", "-1", "PIX_SETTLE_SECONDS must be at least 0"),
        ("PIX_SENSOR_INTERVAL_SECONDS", "0", "PIX_SENSOR_INTERVAL_SECONDS must be at least 1"),
        ("PIX_SENSOR_INTERVAL_SECONDS", "2.5", "PIX_SENSOR_INTERVAL_SECONDS must be a number"),
        ("PIX_DEPTH_ENABLED", "maybe", "PIX_DEPTH_ENABLED must be true or false"),
        ("PIX_STORAGE_BACKEND", "ftp", "PIX_STORAGE_BACKEND must be 'local'"),
        ("PIX_DATABASE_URL", "not a url", "PIX_DATABASE_URL must be a SQLAlchemy URL"),
        ("PIX_SEMANTICS_PROVIDER", "magic", "PIX_SEMANTICS_PROVIDER must be one of"),
        ("PIX_IMAGE_WORKERS", "0", "PIX_IMAGE_WORKERS must be at least 1"),
    ],
)
def test_a_bad_value_names_the_variable(tmp_path: Path, name: str, value: str, message: str):
    with pytest.raises(SettingsError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_settings({name: value}, cwd=tmp_path)


def test_database_url_errors_never_echo_the_value(tmp_path: Path):
    with pytest.raises(SettingsError) as info:
        load_settings({"PIX_DATABASE_URL": "secret-password-here"}, cwd=tmp_path)
    assert "secret-password-here" not in str(info.value)


def test_local_root_that_is_a_file_is_refused(tmp_path: Path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(SettingsError, match="PIX_LOCAL_ROOT must be a directory"):
        load_settings({"PIX_LOCAL_ROOT": str(tmp_path / "file")}, cwd=tmp_path)


def test_prepared_providers_are_refused_at_startup(tmp_path: Path):
    settings = load_settings({"PIX_SEMANTICS_PROVIDER": "llm"}, cwd=tmp_path)
    with pytest.raises(
        SettingsError, match="PIX_SEMANTICS_PROVIDER='llm': this provider is prepared"
    ):
        build_providers(settings)


def test_plugin_providers_load_and_broken_ones_are_named(tmp_path: Path):
    ok = load_settings(
        {"PIX_SEMANTICS_PROVIDER": "pix_pipeline_tests.providers:FixedSemantics"}, cwd=tmp_path
    )
    assert build_providers(ok).semantics.identity == "test-fixed/1"
    missing = load_settings({"PIX_PRIVACY_PROVIDER": "no_such_module:X"}, cwd=tmp_path)
    with pytest.raises(
        SettingsError, match="PIX_PRIVACY_PROVIDER='no_such_module:X': cannot import"
    ):
        build_providers(missing)
    wrong = load_settings(
        {"PIX_PRIVACY_PROVIDER": "pix_pipeline_tests.providers:RecordingNotifier"}, cwd=tmp_path
    )
    with pytest.raises(SettingsError, match="does not implement PrivacyProvider"):
        build_providers(wrong)
    bad_notifier = load_settings(
        {"PIX_NOTIFIER": "pix_pipeline_tests.providers:FixedSemantics"}, cwd=tmp_path
    )
    with pytest.raises(SettingsError, match="PIX_NOTIFIER"):
        build_notifier(bad_notifier)


def test_privacy_thresholds_have_defaults_and_named_errors(tmp_path: Path):
    defaults = load_settings({}, cwd=tmp_path)
    assert defaults.privacy_provider == "local"
    assert defaults.privacy.text_min_score == 0.6 and defaults.privacy.threads == 1
    tuned = load_settings(
        {"PIX_PRIVACY_TEXT_MIN_SCORE": "0.8", "PIX_PRIVACY_FACE_MIN_SCORE": "0.7"}, cwd=tmp_path
    )
    assert (tuned.privacy.text_min_score, tuned.privacy.face_min_score) == (0.8, 0.7)
    # Thresholds are part of the provider identity: changing one re-runs the step.
    assert tuned.privacy.digest() != defaults.privacy.digest()
    with pytest.raises(SettingsError, match="PIX_PRIVACY_TEXT_MIN_SCORE must be at most 1"):
        load_settings({"PIX_PRIVACY_TEXT_MIN_SCORE": "5"}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="PIX_PRIVACY_FACE_MIN_SCORE must be at most 1"):
        load_settings({"PIX_PRIVACY_FACE_MIN_SCORE": "1.5"}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="PIX_PRIVACY_OCR_DETECTION_SIDE must be at least 320"):
        load_settings({"PIX_PRIVACY_OCR_DETECTION_SIDE": "100"}, cwd=tmp_path)
