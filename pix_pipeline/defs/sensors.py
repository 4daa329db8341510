"""final_input_sensor: the watcher of brief 5.1, turning file changes into per-job runs."""

from dataclasses import dataclass

import dagster as dg

from pix_pipeline.defs.jobs import process_pix_job
from pix_pipeline.defs.partitions import PARTITION_TAG, PIX_JOBS, RUN_REVISION_TAG, pix_jobs
from pix_pipeline.defs.resources import PixResource
from pix_pipeline.domain.intake import IntakeReport, scan_final_input
from pix_pipeline.registry.schema import JobRow

IN_FLIGHT = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
FAILED = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass
class RunPlan:
    requests: list[dg.RunRequest]
    busy: list[str]
    given_up: list[str]


def plan_runs(instance: dg.DagsterInstance, jobs: list[JobRow], max_attempts: int) -> RunPlan:
    """One run request per job with unprocessed changes, unless a run for it is in flight.

    The run key names the job revision and the attempt: Dagster never reuses a run key, so a
    failed run is retried under the next attempt number, up to `max_attempts`.
    """
    plan = RunPlan([], [], [])
    if not jobs:
        return plan
    in_flight = instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT))
    busy = {run.tags.get(PARTITION_TAG) for run in in_flight}
    for job in jobs:
        if job.job_id in busy:
            plan.busy.append(job.job_id)
            continue
        failed = instance.get_runs(
            filters=dg.RunsFilter(
                job_name=process_pix_job.name,
                tags={PARTITION_TAG: job.job_id, RUN_REVISION_TAG: str(job.revision)},
                statuses=FAILED,
            )
        )
        if len(failed) >= max_attempts:
            plan.given_up.append(job.job_id)
            continue
        plan.requests.append(
            dg.RunRequest(
                run_key=f"{job.job_id}:r{job.revision}:a{len(failed)}",
                partition_key=job.job_id,
                tags={RUN_REVISION_TAG: str(job.revision)},
            )
        )
    return plan


def describe_tick(report: IntakeReport, plan: RunPlan, new_partitions: list[str]) -> str:
    parts = [report.summary()]
    if new_partitions:
        parts.append(f"new job partition(s): {', '.join(new_partitions)}")
    parts.append(f"requested {len(plan.requests)} run(s)")
    if plan.busy:
        parts.append(f"waiting for the running run of {', '.join(plan.busy)}")
    if plan.given_up:
        parts.append(
            "gave up after repeated failed runs (launch process_pix_job for the partition"
            f" after fixing the cause): {', '.join(plan.given_up)}"
        )
    return "; ".join(parts)


def build_final_input_sensor(interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="final_input_sensor",
        job=process_pix_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches pix-jobs/*/final_input/: registers new, changed and removed JPEGs,"
        " rejects invalid files with a reason, and starts one process_pix_job run per job.",
    )
    def final_input_sensor(
        context: dg.SensorEvaluationContext, pix: PixResource
    ) -> dg.SensorResult:
        rt = pix.runtime
        # The cursor names the job where an unfinished scan stopped; the next tick goes on there.
        report = scan_final_input(rt, resume_after=context.cursor or None)
        existing = set(context.instance.get_dynamic_partitions(PIX_JOBS))
        new_partitions = sorted(set(report.job_ids) - existing)
        plan = plan_runs(
            context.instance, rt.registry.jobs_with_work(), rt.settings.max_run_attempts
        )
        for intake in report.jobs:
            for _filename, reason in intake.rejected:
                context.log.warning(f"{intake.job_id}: rejected {reason}")
            if intake.held:
                context.log.warning(
                    f"{intake.job_id}: {len(intake.held)} file(s) vanished at once, more than"
                    " half of the job; they are marked removed only if still missing at"
                    f" {intake.hold_until:%Y-%m-%d %H:%M} UTC (PIX_REMOVAL_HOLD_MINUTES)"
                )
        message = describe_tick(report, plan, new_partitions)
        context.log.info(message)
        return dg.SensorResult(
            cursor=report.cursor or "",
            run_requests=plan.requests,
            skip_reason=None if plan.requests else dg.SkipReason(message),
            dynamic_partitions_requests=[pix_jobs.build_add_request(new_partitions)]
            if new_partitions
            else None,
        )

    return final_input_sensor
