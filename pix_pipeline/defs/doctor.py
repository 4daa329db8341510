"""`pix-pipeline doctor`: is this installation able to work? One plain line per check.

The checks of the pipeline's own parts (registry, storage, models, webhook, memory) live in
`pix_pipeline.health`; the ones here need Dagster's instance: it answers, `dagster-daemon`
beats, and both sensors are running.
"""

import time
from collections.abc import Sequence

import dagster as dg

from pix_pipeline.analysis.local.faces import FACE_MODEL
from pix_pipeline.analysis.local.onnx_models import PinnedModel
from pix_pipeline.analysis.local.small_text import SMALL_TEXT_MODEL
from pix_pipeline.health import (
    Check,
    check_memory,
    check_models,
    check_registry,
    check_storage,
    check_webhook,
    machine_memory_mib,
)
from pix_pipeline.runtime import build_storage
from pix_pipeline.settings import Settings

# dagster-daemon writes a heartbeat every few seconds; one older than this means it stopped.
STALE_HEARTBEAT_SECONDS = 90.0
SENSORS = ("final_input_sensor", "notification_outbox_sensor")
LOCAL_MODELS: tuple[PinnedModel, ...] = (FACE_MODEL, SMALL_TEXT_MODEL)
# How Dagster stores a sensor that is on: turned on in the UI, or on by its default status.
RUNNING_STATES = frozenset({"RUNNING", "DECLARED_IN_CODE"})


def check_instance(instance: dg.DagsterInstance) -> Check:
    """Dagster's run storage answers."""
    try:
        instance.get_runs(limit=1)
    except Exception as exc:  # any storage or driver error: the line says which
        return Check("dagster instance", False, f"its database does not answer: {exc}")
    return Check("dagster instance", True, f"reachable ({type(instance.run_storage).__name__})")


def check_daemon(
    instance: dg.DagsterInstance, stale_after: float = STALE_HEARTBEAT_SECONDS
) -> Check:
    """Every daemon this instance needs has a heartbeat younger than `stale_after` seconds."""
    beats = instance.get_daemon_heartbeats()
    now = time.time()
    missing, stale, ages = [], [], []
    for daemon in instance.get_required_daemon_types():
        beat = beats.get(daemon)
        if beat is None:
            missing.append(daemon)
            continue
        age = now - beat.timestamp
        ages.append(age)
        if age > stale_after:
            stale.append(f"{daemon} {age:.0f} s ago")
    if missing or stale:
        problems = ([f"no heartbeat from {', '.join(missing)}"] if missing else []) + (
            [f"last heartbeat {', '.join(stale)}"] if stale else []
        )
        return Check(
            "dagster-daemon",
            False,
            f"{'; '.join(problems)} (stale after {stale_after:.0f} s): is dagster-daemon"
            " (pix-daemon) running?",
        )
    return Check("dagster-daemon", True, f"heartbeats at most {max(ages, default=0):.0f} s old")


def check_sensors(instance: dg.DagsterInstance, defs: dg.Definitions) -> Check:
    """Both sensors are on: turned on in the UI, or on by default and never turned off."""
    stored: dict[str, str] = {}
    for state in instance.all_instigator_state():
        if state.instigator_type.value == "SENSOR":
            stored[state.instigator_name] = state.status.value
    defaults = {sensor.name: sensor.default_status for sensor in defs.sensors or []}
    off = []
    for name in SENSORS:
        status = stored.get(name)
        if status is None:
            running = defaults.get(name) == dg.DefaultSensorStatus.RUNNING
        else:
            running = status in RUNNING_STATES
        if not running:
            off.append(name)
    if off:
        return Check(
            "sensors",
            False,
            f"{', '.join(off)} stopped: turn it on in the Dagster UI (Automation)",
        )
    return Check("sensors", True, f"{', '.join(SENSORS)} running")


def max_concurrent_runs(instance: dg.DagsterInstance) -> int | None:
    """The run queue's limit, when the instance queues runs."""
    coordinator = instance.run_coordinator
    if isinstance(coordinator, dg.QueuedRunCoordinator):
        return coordinator.get_run_queue_config().max_concurrent_runs
    return None


def run_checks(
    settings: Settings,
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    *,
    models: Sequence[PinnedModel] = LOCAL_MODELS,
    memory_mib: int | None = None,
) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    checks = [check_registry(settings.database_url), check_storage(build_storage(settings))]
    if settings.privacy_provider == "local":
        checks.append(check_models(models))
    else:
        checks.append(
            Check("models", True, f"not used (PIX_PRIVACY_PROVIDER={settings.privacy_provider})")
        )
    dagster = check_instance(instance)
    checks.append(dagster)
    if dagster.ok:
        checks += [check_daemon(instance), check_sensors(instance, defs)]
    if settings.notifier == "webhook" and settings.notify.webhook_url:
        checks.append(check_webhook(settings.notify.webhook_url))
    limit = max_concurrent_runs(instance)
    if limit is not None:
        memory = machine_memory_mib() if memory_mib is None else memory_mib
        checks.append(check_memory(limit, memory))
    return checks
