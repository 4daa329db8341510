"""PIX_* settings: safe defaults, and a bad value fails with a message naming the variable."""

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pix_pipeline.analysis.factory import build_providers
from pix_pipeline.proxy_user import proxy_user
from pix_pipeline.runtime import build_notifier
from pix_pipeline.settings import (
    SettingsError,
    desk_trusts_proxy_user,
    load_desk_settings,
    load_settings,
    read_secret,
)


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
    assert s.notifier == "log" and s.notify.webhook_url is None
    assert (s.notify.backoff_seconds, s.notify.max_attempts, s.notify.interval_seconds) == (
        30,
        12,
        30,
    )


def test_notification_settings_are_parsed_and_bad_ones_named(tmp_path: Path):
    tuned = load_settings(
        {"PIX_NOTIFY_BACKOFF_SECONDS": "5", "PIX_NOTIFY_MAX_ATTEMPTS": "3"}, cwd=tmp_path
    )
    assert (tuned.notify.backoff_seconds, tuned.notify.max_attempts) == (5.0, 3)
    with pytest.raises(SettingsError, match="PIX_NOTIFY_MAX_ATTEMPTS must be at least 1"):
        load_settings({"PIX_NOTIFY_MAX_ATTEMPTS": "0"}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="PIX_NOTIFY_WEBHOOK_URL must start with https://"):
        load_settings({"PIX_NOTIFY_WEBHOOK_URL": "hooks.example/pix"}, cwd=tmp_path)


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


PASSWORD = "p@ss/w:rd%23 ünï"


def test_the_database_password_comes_from_a_file_and_stays_out_of_reprs(tmp_path: Path):
    secret = tmp_path / "db_password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    s = load_settings(
        {
            "PIX_DATABASE_URL": "postgresql+psycopg://pix@db:5432/pix",
            "PIX_DATABASE_PASSWORD_FILE": str(secret),
        },
        cwd=tmp_path,
    )
    url = make_url(s.database_url)
    assert (url.username, url.password, url.host, url.database) == ("pix", PASSWORD, "db", "pix")
    assert PASSWORD not in repr(s) and "p@ss" not in str(s)


def test_the_whole_database_url_may_come_from_a_file(tmp_path: Path):
    secret = tmp_path / "db_url"
    secret.write_text("postgresql+psycopg://pix:hunter2@db/pix\n", encoding="utf-8")
    s = load_settings({"PIX_DATABASE_URL_FILE": str(secret)}, cwd=tmp_path)
    assert make_url(s.database_url).password == "hunter2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PIX_DATABASE_PASSWORD": "hunter2", "PIX_DATABASE_PASSWORD_FILE": "/run/x"},
            "set PIX_DATABASE_PASSWORD or PIX_DATABASE_PASSWORD_FILE, not both",
        ),
        (
            {
                "PIX_DATABASE_URL": "postgresql+psycopg://u:hunter2@db/pix",
                "PIX_DATABASE_PASSWORD": "hunter3",
            },
            "PIX_DATABASE_URL holds a password and PIX_DATABASE_PASSWORD is set too",
        ),
        ({"PIX_DATABASE_PASSWORD": "hunter2"}, "PIX_DATABASE_URL is a SQLite file"),
        (
            {"PIX_DATABASE_PASSWORD_FILE": "/no/such/file"},
            "PIX_DATABASE_PASSWORD_FILE=/no/such/file cannot be read: No such file",
        ),
    ],
)
def test_credential_errors_name_the_variable_never_the_value(
    tmp_path: Path, env: dict[str, str], message: str
):
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(env, cwd=tmp_path)
    assert "hunter" not in str(info.value)


def test_every_credential_reads_its_variable_or_its_file(tmp_path: Path):
    (tmp_path / "desk").write_text("desk-secret\r\n", encoding="utf-8")
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    env = {
        "PIX_DESK_PASSWORD_FILE": str(tmp_path / "desk"),
        "PIX_NOTIFY_WEBHOOK_SECRET": "whsec_abc",
    }
    desk = read_secret("PIX_DESK_PASSWORD", env)
    assert desk is not None and desk.get_secret_value() == "desk-secret"
    assert "desk-secret" not in repr(desk) and "desk-secret" not in str(desk)
    webhook = read_secret("PIX_NOTIFY_WEBHOOK_SECRET", env)
    assert webhook is not None and webhook.get_secret_value() == "whsec_abc"
    assert read_secret("PIX_DESK_PASSWORD", {"PIX_DESK_PASSWORD": "  "}) is None
    with pytest.raises(SettingsError, match=r"PIX_DESK_PASSWORD_FILE=.* is empty"):
        read_secret("PIX_DESK_PASSWORD", {"PIX_DESK_PASSWORD_FILE": str(tmp_path / "empty")})


def test_the_desk_trusts_the_proxy_user_only_on_loopback():
    assert desk_trusts_proxy_user({}) is False
    assert desk_trusts_proxy_user({"PIX_DESK_TRUST_PROXY_USER": "true"}) is True
    for host in ("127.0.0.1", "::1", "[::1]", "localhost"):
        env = {"PIX_DESK_TRUST_PROXY_USER": "1", "PIX_DESK_HOST": host}
        assert desk_trusts_proxy_user(env) is True
    for host in ("0.0.0.0", "10.0.0.5", "desk.example"):
        env = {"PIX_DESK_TRUST_PROXY_USER": "yes", "PIX_DESK_HOST": host}
        with pytest.raises(SettingsError, match=f"needs the desk on loopback.*{host}"):
            desk_trusts_proxy_user(env)


def scope(server: str, *headers: tuple[str, str]) -> dict[str, object]:
    """A request as uvicorn hands it over: the desk's own address, the forwarded client's."""
    return {
        "type": "http",
        "server": (server, 3001),
        "client": ("203.0.113.9", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }


def test_the_proxy_user_counts_only_when_trusted_on_loopback_and_well_formed():
    daniel = ("X-Pix-Proxy-User", "daniel")
    assert proxy_user(scope("127.0.0.1", daniel), trusted=True) == "daniel"
    assert proxy_user(scope("::1", daniel), trusted=True) == "daniel"
    assert proxy_user(scope("127.0.0.1", daniel), trusted=False) is None
    assert proxy_user(scope("10.0.0.7", daniel), trusted=True) is None
    assert proxy_user(scope("127.0.0.1"), trusted=True) is None
    twice = scope("127.0.0.1", daniel, ("X-Pix-Proxy-User", "mallory"))
    assert proxy_user(twice, trusted=True) is None
    for odd in ("", "a b", "x\x00", "<script>", "a" * 65):
        assert proxy_user(scope("127.0.0.1", ("X-Pix-Proxy-User", odd)), trusted=True) is None


def test_the_desks_dagster_links_use_the_public_address_else_the_internal_one():
    internal = {"PIX_DAGSTER_URL": "http://127.0.0.1:3100/"}
    assert load_desk_settings(internal).dagster_link == "http://127.0.0.1:3100"
    both = {**internal, "PIX_DAGSTER_PUBLIC_URL": "https://dagster.example.com/"}
    desk = load_desk_settings(both)
    assert (desk.dagster_url, desk.dagster_link) == (
        "http://127.0.0.1:3100",
        "https://dagster.example.com",
    )
    with pytest.raises(SettingsError, match="PIX_DAGSTER_PUBLIC_URL must start with http"):
        load_desk_settings({"PIX_DAGSTER_PUBLIC_URL": "dagster.example.com"})


def test_the_customer_metadata_rule_defaults_to_minimal_and_names_a_bad_value(tmp_path: Path):
    from pix_pipeline.imaging.rendition import MetadataRule

    assert load_settings({}, cwd=tmp_path).customer_metadata is MetadataRule.MINIMAL
    chosen = load_settings({"PIX_CUSTOMER_METADATA": " None "}, cwd=tmp_path)
    assert chosen.customer_metadata is MetadataRule.NONE
    with pytest.raises(
        SettingsError,
        match="PIX_CUSTOMER_METADATA must be one of 'minimal', 'none', 'original', got 'all'",
    ):
        load_settings({"PIX_CUSTOMER_METADATA": "all"}, cwd=tmp_path)
