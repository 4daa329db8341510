"""PIX_* configuration: parsed once from the environment into one typed, frozen object.

Nothing here runs at import time. `load_settings()` is called when the Dagster code
location loads (so a bad value stops `dagster dev` with a message naming the variable) and
when a run or sensor sets up its resources.

Credentials are read here too, and only here: each one from its variable or, for secret
files (Kubernetes secret volumes, systemd credentials, Docker secrets), from the file named by
the same variable with `_FILE` appended. A message about a credential names the variable and
never its value.
"""

import base64
import binascii
import hashlib
import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pix_pipeline.imaging.rendition import MetadataRule

StorageBackend = Literal["local", "s3"]
T = TypeVar("T")

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A PIX_* variable holds a value the pipeline cannot work with."""


@dataclass(frozen=True)
class PrivacyThresholds:
    """Tuning of the local privacy checks (PIX_PRIVACY_* settings)."""

    # Reporting thresholds: a finding below its category's score is not reported at all,
    # so it never marks a category `detected` (benchmarks/privacy_real.py chose them).
    text_min_score: float = 0.6
    plate_min_score: float = 0.5
    face_min_score: float = 0.6
    face_min_size: float = 0.028
    face_input_side: int = 960
    ocr_detection_side: int = 960
    ocr_small_photo_side: int = 1280
    threads: int = 1

    def digest(self) -> str:
        """Short hash: part of the provider identity, so changed thresholds re-run the step."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class S3Settings:
    """Where pix-jobs/ lives on S3 / R2; credentials come from the standard AWS variables."""

    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str


@dataclass(frozen=True)
class NotifySettings:
    """Delivery of the notification outbox (PIX_NOTIFY_* settings)."""

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    backoff_seconds: float = 30.0
    max_attempts: int = 12
    timeout_seconds: float = 10.0
    interval_seconds: int = 30


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline, with safe local defaults."""

    storage_backend: StorageBackend
    local_root: Path
    s3: S3Settings | None
    # Holds the database password when there is one: never part of a repr.
    database_url: str = field(repr=False)
    depth_enabled: bool
    settle_seconds: float
    sensor_interval_seconds: int
    privacy_provider: str
    semantics_provider: str
    cleanup_provider: str
    depth_provider: str
    notifier: str
    image_workers: int
    max_run_attempts: int
    max_image_pixels: int
    active_job_days: float
    idle_sweep_hours: float
    hot_job_minutes: float
    verify_seconds: float
    removal_hold_minutes: float
    stuck_pending_minutes: float
    privacy: PrivacyThresholds
    notify: NotifySettings = NotifySettings()
    customer_metadata: MetadataRule = MetadataRule.MINIMAL
    # Finding categories the customer's copies obscure unless Daniel undoes it (PIX_REDACT_AUTO).
    redact_auto: tuple[str, ...] = ("faces", "licence_plates")


# What PIX_REDACT_AUTO may name (domain/redaction.py maps findings onto these words).
REDACT_AUTO_WORDS = ("faces", "licence_plates", "house_numbers", "text")

# name -> (default shown in docs, description); docs/operations.md and .env.example mirror
# this table.
VARIABLES: dict[str, tuple[str, str]] = {
    "PIX_STORAGE_BACKEND": (
        "local",
        "Where pix-jobs/ lives: `local` (a folder) or `s3` (S3 / R2).",
    ),
    "PIX_LOCAL_ROOT": (
        "./storage",
        "Folder that contains pix-jobs/ (local backend) and the default SQLite registry.",
    ),
    "PIX_S3_BUCKET": ("", "Bucket that holds pix-jobs/ (required for `s3`)."),
    "PIX_S3_PREFIX": ("", "Key prefix above pix-jobs/ inside the bucket, e.g. `prod`."),
    "PIX_S3_ENDPOINT_URL": (
        "",
        "S3 endpoint, e.g. https://<account>.r2.cloudflarestorage.com; empty for AWS.",
    ),
    "PIX_S3_REGION": ("auto", "Region name sent to the endpoint (`auto` for R2)."),
    "PIX_DATABASE_URL": (
        "sqlite:///<PIX_LOCAL_ROOT>/pix_registry.sqlite3",
        "SQLAlchemy URL of the registry database.",
    ),
    "PIX_DATABASE_PASSWORD": (
        "",
        "Password for PIX_DATABASE_URL, kept out of the URL (or PIX_DATABASE_PASSWORD_FILE).",
    ),
    "PIX_DESK_TRUST_PROXY_USER": (
        "false",
        "The desk takes the user the proxy signed in (X-Pix-Proxy-User); desk on loopback only.",
    ),
    "PIX_DEPTH_ENABLED": ("false", "Run the optional depth step."),
    "PIX_SETTLE_SECONDS": (
        "5",
        "A file counts as complete once unchanged for this long.",
    ),
    "PIX_SENSOR_INTERVAL_SECONDS": ("30", "How often final_input_sensor looks for files."),
    "PIX_PRIVACY_PROVIDER": (
        "local",
        "Privacy checks: `local` (offline OCR + OpenCV), `none` or `module:Class`.",
    ),
    "PIX_SEMANTICS_PROVIDER": (
        "none",
        "Captions, room/view type, objects: `none` or `module:Class`.",
    ),
    "PIX_CLEANUP_PROVIDER": ("rules", "Cleanup candidates: `rules` or `module:Class`."),
    "PIX_DEPTH_PROVIDER": ("none", "Depth maps when enabled: `none` or `module:Class`."),
    "PIX_NOTIFIER": (
        "log",
        "Where outbox events go: `log`, `webhook` (signed POSTs) or `module:Class`.",
    ),
    "PIX_NOTIFY_WEBHOOK_URL": ("", "Receiver of the webhooks (required for `webhook`)."),
    "PIX_NOTIFY_WEBHOOK_SECRET": (
        "",
        "Signing secret `whsec_…` shared with the receiver (required for `webhook`).",
    ),
    "PIX_NOTIFY_BACKOFF_SECONDS": (
        "30",
        "Wait after a failed delivery; doubles with each further failure, at most 1 hour.",
    ),
    "PIX_NOTIFY_MAX_ATTEMPTS": ("12", "Delivery attempts per event before it is `failed`."),
    "PIX_NOTIFY_TIMEOUT_SECONDS": ("10", "How long one delivery waits for the receiver."),
    "PIX_NOTIFY_INTERVAL_SECONDS": (
        "30",
        "How often notification_outbox_sensor delivers due events.",
    ),
    "PIX_IMAGE_WORKERS": (
        "number of CPU cores",
        "Photos worked on at once in a step (analyze_photos: photo and step pairs).",
    ),
    "PIX_MAX_RUN_ATTEMPTS": ("3", "Automatic runs per job change before the sensor gives up."),
    "PIX_MAX_IMAGE_PIXELS": ("150000000", "Larger images are rejected before decoding."),
    "PIX_ACTIVE_JOB_DAYS": (
        "30",
        "Jobs with a file change or release this recent are listed on every sensor tick.",
    ),
    "PIX_IDLE_SWEEP_HOURS": (
        "24",
        "Older (idle) jobs are listed this often, so a late delivery is still found.",
    ),
    "PIX_HOT_JOB_MINUTES": (
        "60",
        "Jobs with a file change this recent are listed in full on every tick; others are"
        " skipped while their folder is unchanged.",
    ),
    "PIX_VERIFY_SECONDS": (
        "0.3",
        "Time per tick for listing unchanged folders in rotation, to find files rewritten"
        " in place.",
    ),
    "PIX_REMOVAL_HOLD_MINUTES": (
        "60",
        "When more than half of a job's files vanish at once, they are marked removed only"
        " after this long (0: at once).",
    ),
    "PIX_STUCK_PENDING_MINUTES": (
        "60",
        "An image still pending_processing this long after its last change fails the"
        " no_image_stuck_pending check.",
    ),
    "PIX_PRIVACY_TEXT_MIN_SCORE": ("0.6", "OCR confidence (0–1) a text finding needs."),
    "PIX_PRIVACY_PLATE_MIN_SCORE": (
        "0.5",
        "OCR confidence (0–1) a string in a licence-plate format needs.",
    ),
    "PIX_PRIVACY_FACE_MIN_SCORE": ("0.6", "Face detector score (0–1) a face finding needs."),
    "PIX_PRIVACY_FACE_MIN_SIZE": ("0.028", "Smallest face, as a fraction of the shorter side."),
    "PIX_PRIVACY_FACE_INPUT_SIDE": ("960", "Long edge (px) the face detector works on."),
    "PIX_PRIVACY_OCR_DETECTION_SIDE": ("960", "Long edge (px) the text detector works on."),
    "PIX_PRIVACY_OCR_SMALL_PHOTO_SIDE": (
        "1280",
        "Long edge (px) up to which a photo smaller than the detection size is enlarged"
        " (twice at most) for the text detector.",
    ),
    "PIX_ANALYSIS_THREADS": ("1", "Threads each OCR engine may use."),
    "PIX_CUSTOMER_METADATA": (
        "minimal",
        "Metadata in customer copies: `minimal` (orientation, artist, copyright, capture date,"
        " colour space), `none` (orientation only) or `original` (all, but no hidden pictures"
        " once redacted).",
    ),
    "PIX_DESK_HOST": (
        "127.0.0.1",
        "Address the review desk listens on; any other than loopback needs PIX_DESK_PASSWORD.",
    ),
    "PIX_DESK_PORT": ("3001", "Port of the review desk."),
    "PIX_DESK_USER": ("daniel", "User name of the desk's login."),
    "PIX_DESK_PASSWORD": (
        "",
        "Password of the desk's login; unset on loopback: scripts/dev.sh keeps one in"
        " .dagster_home/desk_password, the desk started alone prints a random one.",
    ),
    "PIX_DESK_SECRET": (
        "",
        "Key that signs the desk's session and form cookies; unset: random per start"
        " (everyone logs in again after a restart).",
    ),
    "PIX_REDACT_AUTO": (
        "faces,licence_plates",
        "Findings the customer's copies obscure unless Daniel undoes it on the desk: a comma"
        " list of `faces`, `licence_plates`, `house_numbers`, `text`; `none` for none. Applies"
        " to new findings.",
    ),
    "PIX_DAGSTER_URL": (
        "http://127.0.0.1:3000",
        "Dagster webserver the desk launches release_gallery through (GraphQL API).",
    ),
    "PIX_DAGSTER_PUBLIC_URL": (
        "PIX_DAGSTER_URL",
        "Address of the admins' Dagster UI as Daniel's browser reaches it (through the proxy),"
        " for the desk's links to Dagster.",
    ),
}

# The services that read each variable, by the name of their systemd unit (deploy/systemd/).
# Sensors and runs execute in the code server, so the pipeline's variables belong to its unit;
# the desk reads the registry and the photos too, so those it shares. `pix-pipeline doctor`
# runs with the code server's environment files. The webservers and the daemon read no PIX_*
# variable: they only talk to the code server and to Dagster's instance (DAGSTER_HOME).
CODE_SERVER = "pix-code-server"
DESK = "pix-desk"
READ_BY: dict[str, tuple[str, ...]] = {
    **{name: (CODE_SERVER,) for name in VARIABLES},
    **{
        name: (CODE_SERVER, DESK)
        for name in (
            "PIX_STORAGE_BACKEND",
            "PIX_LOCAL_ROOT",
            "PIX_S3_BUCKET",
            "PIX_S3_PREFIX",
            "PIX_S3_ENDPOINT_URL",
            "PIX_S3_REGION",
            "PIX_DATABASE_URL",
            "PIX_DATABASE_PASSWORD",
            # The desk syncs the gallery after Daniel's decisions: it must render customer
            # copies by the same rules as the pipeline, or the two would undo each other.
            "PIX_CUSTOMER_METADATA",
            "PIX_REDACT_AUTO",
            "PIX_MAX_IMAGE_PIXELS",
        )
    },
    **{name: (DESK,) for name in VARIABLES if name.startswith(("PIX_DESK_", "PIX_DAGSTER_"))},
}


def variables_table() -> str:
    """The settings as a Markdown table (default, services, meaning): docs/production.md holds
    it between markers, written by `pix-pipeline settings-table --write`."""
    lines = ["| variable | default | read by | meaning |", "| --- | --- | --- | --- |"]
    for name, (default, meaning) in VARIABLES.items():
        shown = f"`{default}`" if default else ""
        services = ", ".join(f"`{s}`" for s in READ_BY[name])
        lines.append(f"| `{name}` | {shown} | {services} | {meaning} |")
    return "\n".join(lines) + "\n"


# Every credential a pix_pipeline process reads, each also as NAME_FILE (a file that holds it).
# Others' credentials come from their own tools' variables: S3 keys from AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE (boto3, Dagster's step-log uploads),
# Dagster's database password from DAGSTER_POSTGRES_PASSWORD (deploy/dagster.yaml), the proxy's
# logins from the htpasswd files named by PIX_PROXY_ADMINS_FILE / PIX_PROXY_VIEWERS_FILE.
SECRET_VARIABLES: dict[str, str] = {
    "PIX_DATABASE_URL": "the registry's SQLAlchemy URL, when it carries the password",
    "PIX_DATABASE_PASSWORD": "the registry database's password",
    "PIX_NOTIFY_WEBHOOK_SECRET": "the signing secret of the customer webhook",
    "PIX_DESK_PASSWORD": "the review desk's login password",
    "PIX_DESK_SECRET": "the key that signs the review desk's session cookies",
}
FILE_SUFFIX = "_FILE"


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> SecretStr | None:
    """The credential `name` from its variable or from the file `{name}_FILE` names; None if
    neither is set. Setting both is an error, so nobody wonders which one is used. A file's
    trailing line break (as `echo` and most editors write one) is not part of the value."""
    env = os.environ if environ is None else environ
    direct = env.get(name, "")
    if not direct.strip():
        direct = ""
    file_name = env.get(name + FILE_SUFFIX, "").strip()
    if direct and file_name:
        raise SettingsError(f"set {name} or {name}{FILE_SUFFIX}, not both")
    if not file_name:
        return SecretStr(direct) if direct else None
    try:
        value = Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise SettingsError(f"{name}{FILE_SUFFIX}={file_name} cannot be read: {reason}") from None
    if not value:
        raise SettingsError(f"{name}{FILE_SUFFIX}={file_name} is empty")
    return SecretStr(value)


def desk_trusts_proxy_user(environ: Mapping[str, str] | None = None) -> bool:
    """PIX_DESK_TRUST_PROXY_USER: whether the desk takes the user the proxy signed in
    (X-Pix-Proxy-User) instead of asking for its own login.

    Allowed only while the desk listens on loopback (PIX_DESK_HOST), where the proxy on the same
    machine is the only client that can reach it; on any other address a client could name
    itself. `pix_pipeline.proxy_user` reads the header per request.
    """
    env = os.environ if environ is None else environ
    trust = _parse_bool("PIX_DESK_TRUST_PROXY_USER", env.get("PIX_DESK_TRUST_PROXY_USER", ""))
    host = env.get("PIX_DESK_HOST", "").strip() or "127.0.0.1"
    if trust and not is_loopback(host):
        raise SettingsError(
            f"PIX_DESK_TRUST_PROXY_USER=true needs the desk on loopback, but PIX_DESK_HOST={host}:"
            " any client on that network could send the proxy's user header"
        )
    return trust


@dataclass(frozen=True)
class DeskSettings:
    """The review desk's PIX_DESK_* settings; secrets are left out of repr."""

    host: str
    port: int
    user: str
    password: str | None = field(repr=False)
    secret: str | None = field(repr=False)
    dagster_url: str
    # PIX_DESK_TRUST_PROXY_USER: the proxy's signed-in user counts as logged in.
    trust_proxy_user: bool = False
    # PIX_DAGSTER_PUBLIC_URL: the Dagster UI as Daniel's browser reaches it (through the
    # proxy). dagster_url itself is only for the desk's own GraphQL calls.
    dagster_public_url: str | None = None

    @property
    def dagster_link(self) -> str:
        """Where the desk's links to the Dagster UI point: the public address, else the
        internal one."""
        return self.dagster_public_url or self.dagster_url


def is_loopback(host: str) -> bool:
    """Whether `host` (127.0.0.0/8, ::1 or [::1], localhost) is only reachable from this machine."""
    name = host.strip().strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _database_url(env: Mapping[str, str], default: str) -> str:
    """PIX_DATABASE_URL (or its file), with PIX_DATABASE_PASSWORD (or its file) put in."""
    url_secret = read_secret("PIX_DATABASE_URL", env)
    url = url_secret.get_secret_value().strip() if url_secret else default
    _check_database_url(url)
    password = read_secret("PIX_DATABASE_PASSWORD", env)
    if password is None:
        return url
    parsed = make_url(url)
    if parsed.password is not None:
        raise SettingsError(
            "PIX_DATABASE_URL holds a password and PIX_DATABASE_PASSWORD is set too: keep the"
            " password in one of them"
        )
    if parsed.drivername.startswith("sqlite"):
        raise SettingsError("PIX_DATABASE_PASSWORD is set but PIX_DATABASE_URL is a SQLite file")
    with_password = parsed.set(password=password.get_secret_value())
    return with_password.render_as_string(hide_password=False)


def load_desk_settings(environ: Mapping[str, str] | None = None) -> DeskSettings:
    """Read the desk's variables; refuse a non-loopback address without a password."""
    env = os.environ if environ is None else environ
    get = _getter(env)
    host = get("PIX_DESK_HOST", "127.0.0.1").strip()
    port = _parse_number("PIX_DESK_PORT", get("PIX_DESK_PORT", "3001"), int, 1)
    if port > 65535:
        raise SettingsError(f"PIX_DESK_PORT must be at most 65535, got {port}")
    password_secret = read_secret("PIX_DESK_PASSWORD", env)
    password = password_secret.get_secret_value() if password_secret else None
    if password is None and not is_loopback(host):
        raise SettingsError(
            f"PIX_DESK_PASSWORD must be set when the desk listens on {host} (PIX_DESK_HOST):"
            " without it, anyone on the network could open the desk"
        )
    signing_key = read_secret("PIX_DESK_SECRET", env)
    dagster_url = _web_address("PIX_DAGSTER_URL", get("PIX_DAGSTER_URL", "http://127.0.0.1:3000"))
    raw_public = get("PIX_DAGSTER_PUBLIC_URL", "")
    public_url = _web_address("PIX_DAGSTER_PUBLIC_URL", raw_public) if raw_public else None
    return DeskSettings(
        host=host,
        port=port,
        user=get("PIX_DESK_USER", "daniel").strip(),
        password=password,
        secret=signing_key.get_secret_value() if signing_key else None,
        dagster_url=dagster_url,
        dagster_public_url=public_url,
        trust_proxy_user=desk_trusts_proxy_user(env),
    )


def _web_address(name: str, raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must start with http:// or https://, got {url!r}")
    return url


def _getter(env: Mapping[str, str]) -> Callable[[str, str], str]:
    """A lookup in `env` where an unset or blank variable takes its default."""

    def get(name: str, default: str) -> str:
        value = env.get(name)
        return default if value is None or value.strip() == "" else value

    return get


def _parse_bool(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _parse_number(name: str, raw: str, kind: Callable[[str], T], minimum: float) -> T:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:  # type: ignore[operator]
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _parse_plugin(name: str, raw: str, builtins: tuple[str, ...]) -> str:
    value = raw.strip()
    if value in builtins:
        return value
    module, sep, attr = value.partition(":")
    if sep and module and attr:
        return value
    choices = ", ".join(repr(b) for b in builtins)
    raise SettingsError(f"{name} must be one of {choices} or 'module:Class', got {raw!r}")


def _check_database_url(url: str) -> None:
    try:
        make_url(url)
    except ArgumentError:
        # The value may hold a password: name the variable, never echo the value.
        raise SettingsError(
            "PIX_DATABASE_URL must be a SQLAlchemy URL such as sqlite:///path/registry.db or"
            " postgresql+psycopg://user@host:5432/db"
        ) from None


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Read every PIX_* variable once; raise SettingsError naming the first bad one."""
    env = os.environ if environ is None else environ
    base = Path.cwd() if cwd is None else cwd
    get = _getter(env)

    backend = get("PIX_STORAGE_BACKEND", "local").strip().lower()
    if backend not in ("local", "s3"):
        raise SettingsError(f"PIX_STORAGE_BACKEND must be 'local' or 's3', got {backend!r}")
    s3 = _parse_s3(get) if backend == "s3" else None

    root = Path(get("PIX_LOCAL_ROOT", "./storage")).expanduser()
    local_root = (root if root.is_absolute() else base / root).resolve()
    if local_root.exists() and not local_root.is_dir():
        raise SettingsError(f"PIX_LOCAL_ROOT must be a directory, {local_root} is a file")

    database_url = _database_url(env, f"sqlite:///{local_root / 'pix_registry.sqlite3'}")
    notifier = _parse_plugin("PIX_NOTIFIER", get("PIX_NOTIFIER", "log"), ("log", "webhook"))

    return Settings(
        storage_backend="s3" if s3 else "local",
        local_root=local_root,
        s3=s3,
        database_url=database_url,
        depth_enabled=_parse_bool("PIX_DEPTH_ENABLED", get("PIX_DEPTH_ENABLED", "false")),
        settle_seconds=_parse_number(
            "PIX_SETTLE_SECONDS", get("PIX_SETTLE_SECONDS", "5"), float, 0
        ),
        sensor_interval_seconds=_parse_number(
            "PIX_SENSOR_INTERVAL_SECONDS", get("PIX_SENSOR_INTERVAL_SECONDS", "30"), int, 1
        ),
        privacy_provider=_parse_plugin(
            "PIX_PRIVACY_PROVIDER", get("PIX_PRIVACY_PROVIDER", "local"), ("local", "none", "fal")
        ),
        semantics_provider=_parse_plugin(
            "PIX_SEMANTICS_PROVIDER", get("PIX_SEMANTICS_PROVIDER", "none"), ("none", "llm")
        ),
        cleanup_provider=_parse_plugin(
            "PIX_CLEANUP_PROVIDER", get("PIX_CLEANUP_PROVIDER", "rules"), ("rules", "dino")
        ),
        depth_provider=_parse_plugin(
            "PIX_DEPTH_PROVIDER", get("PIX_DEPTH_PROVIDER", "none"), ("none", "fal")
        ),
        notifier=notifier,
        image_workers=_parse_number(
            "PIX_IMAGE_WORKERS", get("PIX_IMAGE_WORKERS", str(os.cpu_count() or 1)), int, 1
        ),
        max_run_attempts=_parse_number(
            "PIX_MAX_RUN_ATTEMPTS", get("PIX_MAX_RUN_ATTEMPTS", "3"), int, 1
        ),
        max_image_pixels=_parse_number(
            "PIX_MAX_IMAGE_PIXELS", get("PIX_MAX_IMAGE_PIXELS", "150000000"), int, 1
        ),
        active_job_days=_parse_number(
            "PIX_ACTIVE_JOB_DAYS", get("PIX_ACTIVE_JOB_DAYS", "30"), float, 0
        ),
        idle_sweep_hours=_parse_number(
            "PIX_IDLE_SWEEP_HOURS", get("PIX_IDLE_SWEEP_HOURS", "24"), float, 0
        ),
        hot_job_minutes=_parse_number(
            "PIX_HOT_JOB_MINUTES", get("PIX_HOT_JOB_MINUTES", "60"), float, 0
        ),
        verify_seconds=_parse_number(
            "PIX_VERIFY_SECONDS", get("PIX_VERIFY_SECONDS", "0.3"), float, 0
        ),
        removal_hold_minutes=_parse_number(
            "PIX_REMOVAL_HOLD_MINUTES", get("PIX_REMOVAL_HOLD_MINUTES", "60"), float, 0
        ),
        stuck_pending_minutes=_parse_number(
            "PIX_STUCK_PENDING_MINUTES", get("PIX_STUCK_PENDING_MINUTES", "60"), float, 1
        ),
        privacy=_parse_privacy(get),
        notify=_parse_notify(get, env, webhook=notifier == "webhook"),
        customer_metadata=_parse_metadata_rule(get("PIX_CUSTOMER_METADATA", "minimal")),
        redact_auto=_parse_redact_auto(get("PIX_REDACT_AUTO", "faces,licence_plates")),
    )


def _parse_metadata_rule(raw: str) -> MetadataRule:
    try:
        return MetadataRule(raw.strip().lower())
    except ValueError:
        choices = ", ".join(repr(r.value) for r in MetadataRule)
        raise SettingsError(
            f"PIX_CUSTOMER_METADATA must be one of {choices}, got {raw!r}"
        ) from None


def _parse_redact_auto(raw: str) -> tuple[str, ...]:
    words = [w.strip().lower() for w in raw.split(",") if w.strip()]
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in REDACT_AUTO_WORDS]
    if unknown or not words:
        raise SettingsError(
            f"PIX_REDACT_AUTO must be `none` or a comma list of {', '.join(REDACT_AUTO_WORDS)};"
            f" {', '.join(unknown) or 'nothing'} is not one of them (got {raw!r})"
        )
    return tuple(w for w in REDACT_AUTO_WORDS if w in words)


# Standard Webhooks secrets are 24 to 64 random bytes, base64 after the `whsec_` prefix.
WEBHOOK_SECRET_BYTES = (24, 64)


def _check_webhook_secret(raw: str) -> str:
    # Every message names the variable and the expected form, never the value.
    value = raw.strip()
    if not value.startswith("whsec_"):
        raise SettingsError(
            "PIX_NOTIFY_WEBHOOK_SECRET must start with 'whsec_' followed by base64 (the value"
            " is not shown)"
        )
    try:
        key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(
            "PIX_NOTIFY_WEBHOOK_SECRET must be 'whsec_' followed by valid base64 (the value is"
            " not shown)"
        ) from None
    low, high = WEBHOOK_SECRET_BYTES
    if not low <= len(key) <= high:
        raise SettingsError(
            f"PIX_NOTIFY_WEBHOOK_SECRET must encode {low} to {high} random bytes, it encodes"
            f" {len(key)} (the value is not shown)"
        )
    return value


def _parse_notify(
    get: Callable[[str, str], str], env: Mapping[str, str], *, webhook: bool
) -> NotifySettings:
    url = get("PIX_NOTIFY_WEBHOOK_URL", "").strip() or None
    if url is not None and not url.startswith(("https://", "http://")):
        raise SettingsError("PIX_NOTIFY_WEBHOOK_URL must start with https:// or http://")
    raw_secret = read_secret("PIX_NOTIFY_WEBHOOK_SECRET", env)
    secret = SecretStr(_check_webhook_secret(raw_secret.get_secret_value())) if raw_secret else None
    if webhook and url is None:
        raise SettingsError(
            "PIX_NOTIFY_WEBHOOK_URL must name the receiver when PIX_NOTIFIER=webhook"
        )
    if webhook and secret is None:
        raise SettingsError(
            "PIX_NOTIFY_WEBHOOK_SECRET must hold the signing secret (whsec_…) when"
            " PIX_NOTIFIER=webhook"
        )
    return NotifySettings(
        webhook_url=url,
        webhook_secret=secret,
        backoff_seconds=_parse_number(
            "PIX_NOTIFY_BACKOFF_SECONDS", get("PIX_NOTIFY_BACKOFF_SECONDS", "30"), float, 1
        ),
        max_attempts=_parse_number(
            "PIX_NOTIFY_MAX_ATTEMPTS", get("PIX_NOTIFY_MAX_ATTEMPTS", "12"), int, 1
        ),
        timeout_seconds=_parse_number(
            "PIX_NOTIFY_TIMEOUT_SECONDS", get("PIX_NOTIFY_TIMEOUT_SECONDS", "10"), float, 0.1
        ),
        interval_seconds=_parse_number(
            "PIX_NOTIFY_INTERVAL_SECONDS", get("PIX_NOTIFY_INTERVAL_SECONDS", "30"), int, 1
        ),
    )


def _parse_s3(get: Callable[[str, str], str]) -> S3Settings:
    bucket = get("PIX_S3_BUCKET", "").strip()
    if not bucket:
        raise SettingsError("PIX_S3_BUCKET must name the bucket when PIX_STORAGE_BACKEND=s3")
    endpoint = get("PIX_S3_ENDPOINT_URL", "").strip() or None
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        raise SettingsError(
            f"PIX_S3_ENDPOINT_URL must start with https:// or http://, got {endpoint!r}"
        )
    prefix = get("PIX_S3_PREFIX", "").strip().strip("/")
    if any(part in (".", "..") for part in prefix.split("/")) or "//" in prefix:
        raise SettingsError(f"PIX_S3_PREFIX must be a plain key prefix, got {prefix!r}")
    return S3Settings(
        bucket=bucket,
        prefix=prefix,
        endpoint_url=endpoint,
        region=get("PIX_S3_REGION", "auto").strip(),
    )


def _parse_privacy(get: Callable[[str, str], str]) -> PrivacyThresholds:
    def number(name: str, default: float, kind: Callable[[str], T], minimum: float) -> T:
        return _parse_number(name, get(name, str(default)), kind, minimum)

    d = PrivacyThresholds()
    scores = {
        name: number(name, default, float, 0)
        for name, default in (
            ("PIX_PRIVACY_TEXT_MIN_SCORE", d.text_min_score),
            ("PIX_PRIVACY_PLATE_MIN_SCORE", d.plate_min_score),
            ("PIX_PRIVACY_FACE_MIN_SCORE", d.face_min_score),
            ("PIX_PRIVACY_FACE_MIN_SIZE", d.face_min_size),
        )
    }
    for name, value in scores.items():
        if value > 1:
            raise SettingsError(f"{name} must be at most 1, got {value!r}")
    return PrivacyThresholds(
        text_min_score=scores["PIX_PRIVACY_TEXT_MIN_SCORE"],
        plate_min_score=scores["PIX_PRIVACY_PLATE_MIN_SCORE"],
        face_min_score=scores["PIX_PRIVACY_FACE_MIN_SCORE"],
        face_min_size=scores["PIX_PRIVACY_FACE_MIN_SIZE"],
        face_input_side=number("PIX_PRIVACY_FACE_INPUT_SIDE", d.face_input_side, int, 320),
        ocr_detection_side=number("PIX_PRIVACY_OCR_DETECTION_SIDE", d.ocr_detection_side, int, 320),
        ocr_small_photo_side=number(
            "PIX_PRIVACY_OCR_SMALL_PHOTO_SIDE", d.ocr_small_photo_side, int, 320
        ),
        threads=number("PIX_ANALYSIS_THREADS", d.threads, int, 1),
    )
