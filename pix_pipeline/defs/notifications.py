"""Dagster wiring of the notification outbox: the delivering sensor, the customer_notified
check on released_gallery, and the retry_notifications job."""

import warnings
from typing import Any

import dagster as dg
from pydantic import Field

from pix_pipeline.defs.assets import released_gallery
from pix_pipeline.defs.metadata import markdown_table
from pix_pipeline.defs.partitions import pix_jobs
from pix_pipeline.defs.resources import PixResource
from pix_pipeline.notify.outbox import (
    DeliveryReport,
    NotificationView,
    RetryRefused,
    deliver_due,
    failed_notifications,
    job_notifications,
    retry_notifications_of_job,
)
from pix_pipeline.runtime import Runtime

CHECK_NAME = "customer_notified"
CHECK_DESCRIPTION = (
    "Fails while a notification of the job has given up (failed): launch retry_notifications"
    " for the job once the receiver works again."
)


def _when(view: NotificationView) -> str:
    moment = view.sent_at or view.next_attempt_at
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else ""


def _outcome(rt: Runtime, job_id: str) -> tuple[bool, str, dict[str, Any]]:
    """(passed, description, metadata) of the customer_notified check for one job."""
    views = job_notifications(rt, job_id)
    failed = [v for v in views if v.status == "failed"]
    waiting = [v for v in views if v.status == "pending"]
    if failed:
        description = (
            f"{len(failed)} notification(s) failed for good: "
            + "; ".join(f"#{v.id} {v.kind}: {v.last_error}" for v in failed[:5])
            + ". Launch retry_notifications for this job once the receiver works."
        )
    elif waiting:
        description = f"{len(waiting)} notification(s) queued, delivered by the outbox sensor"
    else:
        description = f"{len(views)} notification(s), all delivered"
    metadata: dict[str, Any] = {
        "failed": len(failed),
        "queued": len(waiting),
        "notifications": markdown_table(
            [
                "id",
                "type",
                "release",
                "sequence",
                "status",
                "attempts",
                "last error",
                "sent / next attempt",
            ],
            [
                (
                    v.id,
                    v.kind,
                    v.release_number,
                    v.sequence,
                    v.status,
                    v.attempts,
                    v.last_error,
                    _when(v),
                )
                for v in views
            ],
        ),
    }
    return not failed, description, metadata


def _observation(rt: Runtime, job_id: str) -> dg.AssetObservation:
    """The job's outbox as metadata on released_gallery (Dagster keeps one row per runless check
    result and partition, so the sensor reports observations; the check reads the same)."""
    passed, description, metadata = _outcome(rt, job_id)
    return dg.AssetObservation(
        asset_key=released_gallery.key,
        partition=job_id,
        description=("" if passed else "NOT NOTIFIED: ") + description,
        metadata=metadata,
    )


with warnings.catch_warnings():
    # Partitioned checks are marked preview in Dagster 1.13 (see assets._job_check).
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset_check(
        asset=released_gallery.key,
        name=CHECK_NAME,
        description=CHECK_DESCRIPTION,
        partitions_def=pix_jobs,
    )
    def customer_notified(
        context: dg.AssetCheckExecutionContext, pix: PixResource
    ) -> dg.AssetCheckResult:
        """Reads the job's outbox rows: passes unless one gave up."""
        passed, description, metadata = _outcome(pix.runtime, context.partition_key)
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=description,
            metadata=metadata,
        )


def describe_delivery(report: DeliveryReport, failed: list[NotificationView]) -> str:
    """The tick's message: what this tick delivered, and every row that waits for Daniel."""
    parts = [
        f"delivered {len(report.sent)} notification(s)",
        f"{len(report.retrying)} failed attempt(s) will be retried",
    ]
    for attempt in report.retrying:
        when = f"{attempt.next_attempt_at:%H:%M:%S} UTC" if attempt.next_attempt_at else ""
        parts.append(
            f"#{attempt.notification_id} ({attempt.job_id}, {attempt.kind}) attempt"
            f" {attempt.attempt}: {attempt.error}; next at {when}"
        )
    if failed:
        listed = ", ".join(f"#{v.id} ({v.job_id}, {v.kind}): {v.last_error}" for v in failed[:10])
        parts.append(
            f"FAILED, not retried until retry_notifications is launched for the job: {listed}"
        )
    return "; ".join(parts)


def build_notification_outbox_sensor(interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="notification_outbox_sensor",
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Delivers due notifications from the outbox (PIX_NOTIFIER), retrying with"
        " backoff; lists the ones that gave up.",
    )
    def notification_outbox_sensor(
        context: dg.SensorEvaluationContext, pix: PixResource
    ) -> dg.SensorResult:
        rt = pix.runtime
        report = deliver_due(rt)
        for attempt in report.attempts:
            line = (
                f"notification #{attempt.notification_id} ({attempt.job_id}, {attempt.kind})"
                f" attempt {attempt.attempt}: {attempt.status}"
            )
            if attempt.error:
                context.log.warning(f"{line}: {attempt.error}")
            else:
                context.log.info(line)
        message = describe_delivery(report, failed_notifications(rt, limit=20))
        return dg.SensorResult(
            skip_reason=dg.SkipReason(message),
            # Each job whose rows moved shows their state on released_gallery in the UI.
            asset_events=[_observation(rt, job_id) for job_id in report.job_ids],
        )

    return notification_outbox_sensor


class RetryConfig(dg.Config):
    """Which failed notification of the job to send again."""

    notification_id: int = Field(
        default=0, description="One failed notification (its id); 0: every failed one of the job."
    )


@dg.op(
    description="Makes the job's failed notifications pending again, with a fresh set of"
    " attempts; notification_outbox_sensor delivers them on its next tick.",
)
def retry_job_notifications(
    context: dg.OpExecutionContext, config: RetryConfig, pix: PixResource
) -> dg.Output[int]:
    job_id = context.partition_key
    try:
        retried = retry_notifications_of_job(pix.runtime, job_id, config.notification_id or None)
    except RetryRefused as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.log.info(
        f"{job_id}: {len(retried)} notification(s) queued again"
        + (f" ({', '.join(f'#{v.id}' for v in retried)})" if retried else "")
    )
    return dg.Output(
        len(retried),
        metadata={"job_id": job_id, "retried": dg.MetadataValue.json([v.id for v in retried])},
    )


@dg.job(
    name="retry_notifications",
    partitions_def=pix_jobs,
    description="Send a job's failed notifications again: pick the job in the partition picker,"
    " launch. The outbox sensor delivers them within its interval.",
)
def retry_notifications_job() -> None:
    retry_job_notifications()
