"""Brief 5.1: notice new, changed and vanished files in final_input/ and register them.

This is the watcher behind `final_input_sensor`. It compares each job folder's listing with
the registry (name, size, mtime) and reads only the files that are new or changed, so a
tick over unchanged jobs costs a listing and one query.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pix_pipeline.domain import layout
from pix_pipeline.domain.models import ImageSource, ImageStatus
from pix_pipeline.imaging.decode import ImageRejected, check_jpeg
from pix_pipeline.registry.repository import ImageUpdate, JobChanges, ListingState, NewImage
from pix_pipeline.registry.schema import ImageRow
from pix_pipeline.runtime import Runtime, on_workers
from pix_pipeline.storage.base import StorageError, StoredFile

log = logging.getLogger(__name__)

# Dagster stops a sensor evaluation after 60 s; leave room for the run requests.
DEFAULT_TIME_BUDGET_SECONDS = 40.0


@dataclass
class JobIntake:
    """What one tick saw in one job's final_input/."""

    job_id: str
    registered: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    hold_until: datetime | None = None
    revision: int | None = None
    listing_digest: str | None = None
    folder_stamp: str | None = None


@dataclass
class IntakeReport:
    """What one tick saw over all jobs."""

    jobs_scanned: int = 0
    jobs_unchanged: int = 0
    jobs_verified: int = 0
    jobs: list[JobIntake] = field(default_factory=list)
    invalid_job_folders: list[str] = field(default_factory=list)
    unfinished: bool = False
    idle_due: int = 0
    cursor: str | None = None

    def total(self, name: str) -> int:
        return sum(len(getattr(j, name)) for j in self.jobs)

    @property
    def job_ids(self) -> list[str]:
        return [j.job_id for j in self.jobs]

    def summary(self) -> str:
        parts = [
            f"scanned {self.jobs_scanned} job(s)",
            f"skipped {self.jobs_unchanged} unchanged folder(s)",
            f"registered {self.total('registered')} new file(s)",
            f"{self.total('changed')} changed",
            f"{self.total('removed')} removed",
            f"rejected {self.total('rejected')}",
            f"{self.total('waiting')} still being written",
        ]
        held = [j for j in self.jobs if j.held]
        if held:
            parts.append(
                "held back removal of "
                + ", ".join(
                    f"{len(j.held)} file(s) of {j.job_id} (more than half of the job vanished"
                    f" at once; marked removed if still missing at {j.hold_until:%H:%M} UTC)"
                    for j in held
                )
            )
        if self.total("ignored"):
            parts.append(f"ignored {self.total('ignored')} non-JPEG name(s)")
        if self.invalid_job_folders:
            parts.append(
                f"ignored {len(self.invalid_job_folders)} folder(s) that are not valid job ids: "
                + ", ".join(repr(f) for f in self.invalid_job_folders[:5])
            )
        if self.idle_due:
            parts.append(f"{self.idle_due} idle job(s) due for their sweep")
        if self.unfinished:
            parts.append("time budget used up, the rest follows next tick")
        return "; ".join(parts)


def _source_of(rt: Runtime, key: str) -> tuple[str, str | None]:
    """(source, problem): provenance attached to the file, `editor` when there is none."""
    raw = rt.storage.provenance(key)
    if raw is None or raw == "":
        return ImageSource.EDITOR.value, None
    if raw in (ImageSource.EDITOR.value, ImageSource.MANUAL.value):
        return raw, None
    return ImageSource.EDITOR.value, f"unknown source {raw!r} (expected 'editor' or 'manual')"


def _unchanged(listed: StoredFile, row: ImageRow | None) -> bool:
    """The registered file still has the size and mtime it had: nothing to read."""
    return (
        row is not None
        and row.status != ImageStatus.REMOVED
        and row.size_bytes == listed.size
        and row.mtime_ns == listed.mtime_ns
    )


def _examine(
    rt: Runtime, job_id: str, listed: StoredFile, row: ImageRow | None, now_ns: int
) -> NewImage | ImageUpdate | str | None:
    """Decide about a listed JPEG whose size or mtime changed (see `_unchanged`): a
    registration, an update, 'waiting', or None."""
    settling = now_ns - listed.mtime_ns < rt.settings.settle_seconds * 1e9
    if settling and not rt.storage.atomic_uploads:
        return "waiting"
    key = layout.final_input_key(job_id, listed.name)
    try:
        data = rt.storage.read_bytes(key)
    except FileNotFoundError:
        return None  # gone again; the next tick sees it as removed or never there
    if len(data) != listed.size:
        return "waiting"  # still growing between listing and reading
    content_hash = hashlib.sha256(data).hexdigest()
    if row is not None and row.status != ImageStatus.REMOVED and row.content_hash == content_hash:
        # Touched or copied again with identical bytes: refresh the fingerprint only.
        return ImageUpdate(row.image_id, listed.size, listed.mtime_ns)
    # After the check above: on S3 the provenance is one more billed request per file.
    source, problem = _source_of(rt, key)
    if problem is None:
        try:
            check_jpeg(data, rt.settings.max_image_pixels)
        except ImageRejected as exc:
            problem = str(exc)
    status = ImageStatus.ERROR if problem else ImageStatus.PENDING_PROCESSING
    message = f"final_input/{listed.name}: {problem}" if problem else None
    stage = "validation" if problem else None
    if row is None:
        return NewImage(
            filename=listed.name,
            storage_path=key,
            source=source,
            status=status.value,
            size_bytes=listed.size,
            mtime_ns=listed.mtime_ns,
            content_hash=content_hash,
            error_message=message,
            error_stage=stage,
        )
    return ImageUpdate(
        image_id=row.image_id,
        size_bytes=listed.size,
        mtime_ns=listed.mtime_ns,
        content_hash=content_hash,
        source=source,
        status=status.value,
        error_message=message,
        error_stage=stage,
    )


def listing_digest(listing: list[StoredFile]) -> str:
    """A digest of what a listing shows: any added, removed, resized or touched file changes it."""
    text = "\n".join(f"{f.name}\t{f.size}\t{f.mtime_ns}" for f in listing)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def scan_job(rt: Runtime, job_id: str, now_ns: int, state: ListingState | None) -> JobIntake:
    """Register what changed in one job's final_input/ since the last tick.

    When the listing looks exactly like the last complete one (the job's stored digest),
    nothing can have changed and the job's image rows are not even read.
    """
    intake = JobIntake(job_id)
    job_registered = state is not None
    listing = rt.storage.list_files(layout.final_input_prefix(job_id))
    digest = listing_digest(listing)
    if state is not None and digest == state.listing_hash:
        intake.listing_digest = digest
        return intake
    known = {r.filename: r for r in rt.registry.images_of_job(job_id)} if job_registered else {}
    new: list[NewImage] = []
    updated: list[ImageUpdate] = []
    jpegs: list[StoredFile] = []
    for listed in listing:
        if layout.is_ignored_name(listed.name):
            continue
        if not layout.is_jpeg_name(listed.name):
            intake.ignored.append(listed.name)
            continue
        jpegs.append(listed)
    present = {listed.name for listed in jpegs}

    def examine(listed: StoredFile) -> NewImage | ImageUpdate | str | None:
        return _examine(rt, job_id, listed, known.get(listed.name), now_ns)

    # Reading, hashing and checking a delivery of 24 MP photos is most of a first tick's work.
    to_read = [listed for listed in jpegs if not _unchanged(listed, known.get(listed.name))]
    decisions = on_workers(rt.settings, examine, to_read, "intake")
    for listed, decision in zip(to_read, decisions, strict=True):
        if decision is None:
            continue
        if decision == "waiting":
            intake.waiting.append(listed.name)
        elif isinstance(decision, NewImage):
            new.append(decision)
            if decision.error_message:
                intake.rejected.append((decision.filename, decision.error_message))
            else:
                intake.registered.append(decision.filename)
        elif isinstance(decision, ImageUpdate):
            updated.append(decision)
            if decision.error_message:
                intake.rejected.append((listed.name, decision.error_message))
            elif decision.status:
                intake.changed.append(listed.name)
    vanished = sorted(
        (name, row.image_id)
        for name, row in known.items()
        if name not in present and row.status != ImageStatus.REMOVED
    )
    current = sum(1 for row in known.values() if row.status != ImageStatus.REMOVED)
    hold_since = state.removal_hold_since if state is not None else None
    hold = timedelta(minutes=rt.settings.removal_hold_minutes)
    now = datetime.fromtimestamp(now_ns / 1e9, UTC)
    if vanished and len(vanished) * 2 > current and hold > timedelta(0):
        # Most of a job vanishing at once looks more like a sync tool or a mount gone wrong
        # than like a decision: wait until it has lasted PIX_REMOVAL_HOLD_MINUTES.
        if hold_since is None:
            hold_since = now
        if now - hold_since < hold:
            intake.held = [name for name, _ in vanished]
            intake.hold_until = hold_since + hold
            vanished = []
        else:
            hold_since = None
    else:
        hold_since = None
    intake.removed = [name for name, _ in vanished]
    changes = JobChanges(job_id, new=new, updated=updated, removed=[i for _, i in vanished])
    if new or updated or vanished or not job_registered:
        intake.revision = rt.registry.apply_changes(changes)
    if (state.removal_hold_since if state is not None else None) != hold_since:
        rt.registry.update_job(job_id, removal_hold_since=hold_since)
    # A file still being written, or a held removal, must be looked at again next tick.
    intake.listing_digest = None if intake.waiting or intake.held else digest
    return intake


def scan_order(
    rt: Runtime,
    folder_ids: list[str],
    states: dict[str, ListingState],
    now: datetime,
    resume_after: str | None,
) -> tuple[list[str], list[str]]:
    """(jobs to look at this tick, the idle ones among them) in the order they are looked at.

    New job folders and active jobs come first, starting after `resume_after` (where an
    unfinished tick stopped) and wrapping around; idle jobs due for their sweep follow, the
    longest unswept first.
    """
    active_since = now - timedelta(days=rt.settings.active_job_days)
    swept_before = now - timedelta(hours=rt.settings.idle_sweep_hours)
    never = datetime.min.replace(tzinfo=UTC)
    active: list[str] = []
    due: list[tuple[datetime, str]] = []
    for job_id, state in states.items():
        if state.last_activity_at >= active_since:
            active.append(job_id)
        elif state.last_swept_at is None or state.last_swept_at < swept_before:
            due.append((state.last_swept_at or never, job_id))
    first = sorted({j for j in folder_ids if j not in states} | set(active))
    if resume_after is not None:
        first = [j for j in first if j > resume_after] + [j for j in first if j <= resume_after]
    due_ids = [j for _, j in sorted(due)]
    return first + due_ids, due_ids


def scan_final_input(
    rt: Runtime,
    *,
    now_ns: int | None = None,
    time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS,
    resume_after: str | None = None,
) -> IntakeReport:
    """One watcher pass: new job folders, active jobs, and idle jobs whose sweep is due.

    Listing is billed per call on R2, so a tick lists the job folders once (a delimiter
    listing that finds new jobs) and then only the final_input/ of jobs with recent activity;
    idle jobs are listed every PIX_IDLE_SWEEP_HOURS. Where the storage stamps folders (local
    disk), an active job whose folder stamp is unchanged is not listed at all, unless its last
    file change is hot (PIX_HOT_JOB_MINUTES); such jobs are listed in rotation, the longest
    unlisted first, for PIX_VERIFY_SECONDS per tick, which finds files rewritten in place.
    When the time budget runs out, `report.cursor` says where the next tick continues.
    """
    started = time.monotonic()
    now_ns = time.time_ns() if now_ns is None else now_ns
    now = datetime.fromtimestamp(now_ns / 1e9, UTC)
    report = IntakeReport()
    folders = rt.storage.list_folders(layout.JOBS_ROOT)
    states = rt.registry.listing_states()
    if not folders and states and not rt.storage.exists_folder(layout.JOBS_ROOT):
        # An unmounted disk or a wrong root looks like "every file vanished": refuse to act.
        raise StorageError(
            f"{layout.JOBS_ROOT}/ is missing under {rt.storage.describe()} although"
            f" {len(states)} job(s) are registered; nothing was marked removed"
        )
    folder_ids: list[str] = []
    for name in folders:
        if layout.is_valid_job_id(name):
            folder_ids.append(name)
        else:
            report.invalid_job_folders.append(name)
            log.warning("ignoring folder pix-jobs/%s: not a valid job id", name)
    order, due_list = scan_order(rt, folder_ids, states, now, resume_after)
    due = set(due_list)
    report.idle_due = len(due)
    hot_since = now - timedelta(minutes=rt.settings.hot_job_minutes)
    scanned: list[str] = []
    stamps: dict[str, str | None] = {}
    unchanged: list[str] = []

    def scan(job_id: str) -> None:
        intake = scan_job(rt, job_id, now_ns, states.get(job_id))
        intake.folder_stamp = stamps[job_id] if intake.listing_digest else None
        report.jobs.append(intake)
        scanned.append(job_id)

    for job_id in order:
        # At least one job per tick, so even a slow storage makes progress.
        if scanned and time.monotonic() - started > time_budget_seconds:
            report.unfinished = True
            # Idle sweeps resume by themselves (they stay due); the rest resumes from here.
            looked_at = scanned + unchanged
            report.cursor = next((j for j in reversed(looked_at) if j not in due), None)
            break
        # Taken before the listing, so a change during the listing shows next tick.
        stamps[job_id] = rt.storage.folder_stamp(layout.final_input_prefix(job_id))
        state = states.get(job_id)
        if (
            state is not None
            and job_id not in due
            and state.folder_stamp is not None
            and state.folder_stamp == stamps[job_id]
            and state.last_activity_at < hot_since
        ):
            unchanged.append(job_id)
            continue
        scan(job_id)
    if not report.unfinished and unchanged and rt.settings.verify_seconds > 0:
        verify_started = time.monotonic()
        never = datetime.min.replace(tzinfo=UTC)
        unchanged.sort(key=lambda j: (states[j].last_swept_at or never, j))
        for job_id in unchanged:
            scan(job_id)
            report.jobs_verified += 1
            if time.monotonic() - verify_started >= rt.settings.verify_seconds:
                break
    report.jobs_scanned = len(scanned)
    report.jobs_unchanged = len(unchanged) - report.jobs_verified
    rt.registry.set_listing_states(
        {
            j.job_id: (j.listing_digest, j.folder_stamp)
            for j in report.jobs
            if j.job_id not in states
            or (j.listing_digest, j.folder_stamp)
            != (states[j.job_id].listing_hash, states[j.job_id].folder_stamp)
        }
    )
    rt.registry.mark_swept(scanned, now)
    return report
