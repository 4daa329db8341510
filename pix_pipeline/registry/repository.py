"""Reads and writes of the registry. Every query the pipeline makes lives here."""

import fcntl
import functools
import hashlib
import inspect
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Engine,
    Table,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, aliased

from pix_pipeline.domain.gallery_state import (
    ConcurrentTransition,
    GalleryEvent,
    GalleryState,
    next_state,
    parse_state,
)
from pix_pipeline.registry.migrations import upgrade_to_head
from pix_pipeline.registry.schema import (
    ImageRow,
    JobRow,
    NotificationRow,
    RedactionRow,
    SemanticValueRow,
    StepResultRow,
    utcnow,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        # The sensor (daemon process) and run workers write concurrently: WAL lets readers go
        # on while one writer commits, and busy_timeout makes a writer wait instead of failing.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return apply


def make_engine(url: str, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for `url`; a SQLite file's folder is created on first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout_ms / 1000})
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True)
class NewRedaction:
    """An area to obscure in a photo's customer copies (see RedactionRow)."""

    image_id: str
    category: str
    x0: float
    y0: float
    x1: float
    y1: float
    source: str
    created_by: str | None
    finding_label: str | None = None
    finding_text: str | None = None


@dataclass(frozen=True)
class NewImage:
    filename: str
    storage_path: str
    source: str
    status: str
    size_bytes: int
    mtime_ns: int
    content_hash: str | None
    error_message: str | None
    error_stage: str | None


@dataclass(frozen=True)
class ImageUpdate:
    """A change the sensor saw for an already registered file."""

    image_id: str
    size_bytes: int
    mtime_ns: int
    content_hash: str | None = None
    source: str | None = None
    # None: only the fingerprint moved (same content); otherwise the new status.
    status: str | None = None
    error_message: str | None = None
    error_stage: str | None = None


@dataclass(frozen=True)
class JobChanges:
    job_id: str
    new: Sequence[NewImage] = ()
    updated: Sequence[ImageUpdate] = ()
    removed: Sequence[str] = ()

    @property
    def changes_content(self) -> bool:
        """Anything that needs a run (a pure fingerprint refresh does not)."""
        return bool(self.new or self.removed or any(u.status for u in self.updated))


@dataclass(frozen=True)
class JobSummary:
    """A job with its photo counts, as the desk's jobs list shows it."""

    job: JobRow
    pending: int
    processed: int
    error: int
    hidden: int
    # Shown photos with privacy findings that are not checked for their current content.
    unchecked: int

    @property
    def needs_attention(self) -> bool:
        """The rule `job_summaries(needs_attention=True)` applies in SQL, for one row."""
        return bool(self.error or self.unchecked or self.job.gallery_status == "update_pending")


@dataclass(frozen=True)
class ListingState:
    """What a sensor tick needs to know of a registered job before it looks at its folder."""

    listing_hash: str | None
    folder_stamp: str | None
    last_activity_at: datetime
    last_swept_at: datetime | None
    removal_hold_since: datetime | None = None


@dataclass(frozen=True)
class OutboxEvent:
    """An event to queue in the transaction of the change it announces.

    With `quiet`, the event is due that long after the change, and a further change of the
    same kind within the wait is merged into it (the newer payload wins, the wait starts
    again), but it is due at most `max_delay` after the first change it sums up.
    """

    kind: str
    payload: dict[str, Any]
    quiet: timedelta | None = None
    max_delay: timedelta | None = None


def _next_sequence(session: Session, job_id: str, now: datetime) -> int:
    """The job's next event sequence: one more than its last, and at least `now` in
    milliseconds since 1970.

    The job row's counter is updated in the enqueueing transaction, so concurrent writers
    take turns on its row lock. The clock floor keeps a restored backup from handing out a
    number again: events sent after the backup was taken are gone from the restored outbox,
    but their numbers are below the time of any event queued after the restore.
    """
    floor = int(now.timestamp() * 1000)
    following = JobRow.notification_sequence + 1
    session.execute(
        update(JobRow)
        .where(JobRow.job_id == job_id)
        .values(notification_sequence=case((following > floor, following), else_=floor))
        .execution_options(synchronize_session=False)
    )
    return int(
        session.execute(
            select(JobRow.notification_sequence).where(JobRow.job_id == job_id)
        ).scalar_one()
    )


def _merge_into_waiting(
    session: Session, job_id: str, event: OutboxEvent, now: datetime
) -> NotificationRow | None:
    """Fold a quiet event into the job's newest row when that row is the same kind and has
    not been attempted yet; None when there is no such row (or a deliverer just took it)."""
    assert event.quiet is not None
    newest = session.execute(
        select(NotificationRow)
        .where(NotificationRow.job_id == job_id)
        .order_by(NotificationRow.sequence.desc())
        .limit(1)
    ).scalar_one_or_none()
    if newest is None or newest.kind != event.kind:
        return None
    due = now + event.quiet
    if event.max_delay is not None:
        due = min(due, as_utc(newest.created_at) + event.max_delay)
    # Compare-and-set against a deliverer's claim, which counts the attempt first.
    merged = cast(
        CursorResult[Any],
        session.execute(
            update(NotificationRow)
            .where(
                NotificationRow.id == newest.id,
                NotificationRow.status == "pending",
                NotificationRow.attempts == 0,
            )
            .values(
                payload={**event.payload, "release_number": newest.release_number},
                next_attempt_at=due,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if merged.rowcount != 1:
        return None
    session.expire(newest)
    session.refresh(newest)
    return newest


def _queue_event(
    session: Session, job_id: str, event: OutboxEvent, now: datetime
) -> NotificationRow:
    """Add one outbox row for the job's current release (or merge a quiet event into the
    waiting one), in the caller's transaction."""
    if event.quiet is not None:
        merged = _merge_into_waiting(session, job_id, event, now)
        if merged is not None:
            return merged
    # A later event ends the quiet wait of earlier ones: they go first, and at once.
    session.execute(
        update(NotificationRow)
        .where(
            NotificationRow.job_id == job_id,
            NotificationRow.status == "pending",
            NotificationRow.attempts == 0,
            NotificationRow.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    release_number = session.execute(
        select(JobRow.release_count).where(JobRow.job_id == job_id)
    ).scalar_one()
    row = NotificationRow(
        job_id=job_id,
        kind=event.kind,
        release_number=release_number,
        sequence=_next_sequence(session, job_id, now),
        webhook_id=f"msg_{uuid.uuid4().hex}",
        payload={**event.payload, "release_number": release_number},
        status="pending",
        attempts=0,
        next_attempt_at=now + event.quiet if event.quiet is not None else now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _earlier_pending(row: type[NotificationRow]) -> Any:
    """EXISTS a pending row of the same job with a smaller sequence: it goes first."""
    earlier = aliased(NotificationRow)
    return exists().where(
        earlier.job_id == row.job_id,
        earlier.status == "pending",
        earlier.sequence < row.sequence,
    )


def as_utc(moment: datetime | None) -> Any:
    """SQLite hands timestamps back without their zone; every stored one is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _transition(
    session: Session, job_id: str, event: GalleryEvent, values: dict[str, Any]
) -> tuple[GalleryState, GalleryState]:
    """Compare-and-set of the gallery state inside `session`'s transaction."""
    row = session.execute(
        select(JobRow.gallery_status, JobRow.gallery_visibility).where(JobRow.job_id == job_id)
    ).one_or_none()
    if row is None:
        raise KeyError(f"job {job_id} is not registered")
    before = parse_state(row.gallery_status, row.gallery_visibility)
    after = next_state(before, event)
    result = cast(
        CursorResult[Any],
        session.execute(
            update(JobRow)
            .where(
                JobRow.job_id == job_id,
                JobRow.gallery_status == before[0].value,
                JobRow.gallery_visibility == before[1].value,
            )
            .values(gallery_status=after[0].value, gallery_visibility=after[1].value, **values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise ConcurrentTransition(
            f"the gallery of job {job_id} changed while {event.value!r} was being applied;"
            " run it again"
        )
    return before, after


def _dialect_insert(session: Session, table: type[Any]) -> Any:
    """An INSERT of the session's database dialect, which offers ON CONFLICT clauses."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)


def _insert_ignoring_conflicts(session: Session, table: type[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the dialect of the session's database."""
    return _dialect_insert(session, table).on_conflict_do_nothing()


# Waits between attempts when the database is busy or its connection dropped: about 15 s in
# all, then RegistryUnavailable says what failed.
RETRY_DELAYS = (0.1, 0.3, 1.0, 3.0, 10.0)


class RegistryUnavailable(RuntimeError):
    """The database stayed locked or unreachable through every retry."""


def is_transient(exc: BaseException) -> bool:
    """A failure that may pass by itself: a locked SQLite file, a lost PostgreSQL connection."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    message = str(exc.orig).lower()
    if isinstance(exc.orig, sqlite3.OperationalError):
        return "locked" in message or "busy" in message
    # PostgreSQL: the server went away, restarted, refused the connection, or chose this
    # transaction as a deadlock or serialization victim.
    return isinstance(exc, OperationalError | InterfaceError)


def _retried(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(self: "Registry", *args: Any, **kwargs: Any) -> T:
        for delay in (*self.retry_delays, None):
            try:
                return method(self, *args, **kwargs)
            except DBAPIError as exc:
                if not is_transient(exc):
                    raise
                if delay is None:
                    raise RegistryUnavailable(
                        f"registry database {self.engine.url.render_as_string()}: {method.__name__}"
                        f" failed {len(self.retry_delays) + 1} times, last with: {exc.orig}"
                    ) from exc
                log.warning("registry %s: %s; retrying in %.1f s", method.__name__, exc.orig, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    return wrapper


def _retry_transient_errors(cls: type["Registry"]) -> type["Registry"]:
    """Wrap every public query method: each runs its own transaction, so it can run again."""
    for name, member in list(vars(cls).items()):
        if inspect.isfunction(member) and not name.startswith("_") and name not in _NOT_RETRIED:
            setattr(cls, name, _retried(member))
    return cls


# Context managers hand out a connection to the caller; dispose touches no database.
_NOT_RETRIED = frozenset({"dispose", "session", "gallery_lock"})


@_retry_transient_errors
class Registry:
    """The registry database behind one engine; tables are created on first use.

    Every method is one transaction; one that fails on a locked or lost database is retried
    after RETRY_DELAYS, then raises RegistryUnavailable.
    """

    def __init__(self, engine: Engine, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.engine = engine
        self.retry_delays = tuple(retry_delays)
        self.migrate()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is there)."""
        upgrade_to_head(self.engine)

    @classmethod
    def from_url(cls, url: str) -> "Registry":
        return cls(make_engine(url))

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def gallery_lock(self, job_id: str) -> Iterator[None]:
        """Hold the job's gallery for one writer: a sync, a release or a revoke.

        Copying files into the gallery happens outside any transaction, so a release must not
        interleave with a pipeline sync of the same job: PostgreSQL takes a session advisory
        lock, SQLite (one machine by nature) an exclusive lock file beside the database.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                key = f"pix_pipeline.gallery:{job_id}"
                conn.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})
                    conn.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield  # one process only
            return
        folder = Path(f"{database}.locks")
        folder.mkdir(exist_ok=True)
        digest = hashlib.sha256(job_id.encode("utf-8")).hexdigest()[:32]
        with (folder / f"gallery-{digest}.lock").open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # -- jobs ---------------------------------------------------------------------------

    def get_job(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            return s.get(JobRow, job_id)

    def listing_states(self) -> dict[str, ListingState]:
        """job_id -> what the last complete listing of its final_input/ left behind."""
        with self.session() as s:
            rows = s.execute(
                select(
                    JobRow.job_id,
                    JobRow.listing_hash,
                    JobRow.folder_stamp,
                    JobRow.last_activity_at,
                    JobRow.last_swept_at,
                    JobRow.removal_hold_since,
                )
            )
            return {
                job_id: ListingState(digest, stamp, as_utc(activity), as_utc(swept), as_utc(hold))
                for job_id, digest, stamp, activity, swept, hold in rows
            }

    def set_listing_states(self, states: dict[str, tuple[str | None, str | None]]) -> None:
        """Store new (listing digest, folder stamp) pairs, one batched statement."""
        if not states:
            return
        with self.session() as s:
            jobs = cast(Table, JobRow.__table__)
            s.connection().execute(
                update(jobs)
                .where(jobs.c.job_id == bindparam("jid"))
                .values(listing_hash=bindparam("digest"), folder_stamp=bindparam("stamp")),
                [
                    {"jid": job_id, "digest": digest, "stamp": stamp}
                    for job_id, (digest, stamp) in states.items()
                ],
            )

    def jobs_with_work(self) -> list[JobRow]:
        with self.session() as s:
            stmt = select(JobRow).where(JobRow.revision > JobRow.processed_revision)
            return list(s.scalars(stmt.order_by(JobRow.job_id)))

    def mark_processed_revision(self, job_id: str, revision: int) -> None:
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.job_id == job_id, JobRow.processed_revision < revision)
                .values(processed_revision=revision)
            )

    def mark_swept(self, job_ids: Sequence[str], at: datetime) -> None:
        """Record that these jobs' folders were listed at `at` (one statement per 500 jobs)."""
        with self.session() as s:
            for start in range(0, len(job_ids), 500):
                chunk = list(job_ids[start : start + 500])
                s.execute(update(JobRow).where(JobRow.job_id.in_(chunk)).values(last_swept_at=at))

    def update_job(self, job_id: str, **values: Any) -> None:
        """Set plain job columns; the gallery's state moves only by `transition_gallery`."""
        if {"gallery_status", "gallery_visibility"} & values.keys():
            raise ValueError("the gallery state changes only through transition_gallery")
        with self.session() as s:
            s.execute(update(JobRow).where(JobRow.job_id == job_id).values(**values))

    # -- intake -------------------------------------------------------------------------

    def apply_changes(self, changes: JobChanges) -> int:
        """Register what the sensor saw for one job in one transaction; returns the revision."""
        now = utcnow()
        with self.session() as s:
            # Insert-or-nothing, then lock: two writers registering the same new job (or the
            # same new file) wait for each other instead of failing on the primary key.
            s.execute(
                _insert_ignoring_conflicts(s, JobRow).values(
                    job_id=changes.job_id,
                    revision=0,
                    processed_revision=0,
                    gallery_status="none",
                    gallery_visibility="internal",
                    release_count=0,
                    last_activity_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            job = s.get(JobRow, changes.job_id, with_for_update=True, populate_existing=True)
            assert job is not None
            if changes.new:
                s.execute(
                    _insert_ignoring_conflicts(s, ImageRow),
                    [
                        {
                            "image_id": str(uuid.uuid4()),
                            "job_id": changes.job_id,
                            "filename": new.filename,
                            "storage_path": new.storage_path,
                            "source": new.source,
                            "status": new.status,
                            "error_message": new.error_message,
                            "error_stage": new.error_stage,
                            "size_bytes": new.size_bytes,
                            "mtime_ns": new.mtime_ns,
                            "content_hash": new.content_hash,
                            "registered_at": now,
                            "updated_at": now,
                        }
                        for new in changes.new
                    ],
                )
            for upd in changes.updated:
                values: dict[str, Any] = {
                    "size_bytes": upd.size_bytes,
                    "mtime_ns": upd.mtime_ns,
                    "updated_at": now,
                }
                if upd.status is not None:
                    values.update(
                        status=upd.status,
                        content_hash=upd.content_hash,
                        error_message=upd.error_message,
                        error_stage=upd.error_stage,
                        removed_at=None,
                    )
                    if upd.source is not None:
                        values["source"] = upd.source
                s.execute(
                    update(ImageRow).where(ImageRow.image_id == upd.image_id).values(**values)
                )
            if changes.removed:
                s.execute(
                    update(ImageRow)
                    .where(ImageRow.image_id.in_(list(changes.removed)))
                    .values(status="removed", removed_at=now, updated_at=now)
                )
            if changes.changes_content:
                job.revision += 1
                job.last_activity_at = now
            return job.revision

    # -- processing ---------------------------------------------------------------------

    def images_of_job(self, job_id: str) -> list[ImageRow]:
        with self.session() as s:
            stmt = select(ImageRow).where(ImageRow.job_id == job_id).order_by(ImageRow.filename)
            return list(s.scalars(stmt))

    def step_results(self, job_id: str) -> dict[tuple[str, str], StepResultRow]:
        """(image_id, step) -> latest result, for every image of the job."""
        with self.session() as s:
            rows = s.scalars(select(StepResultRow).where(StepResultRow.job_id == job_id))
            return {(r.image_id, r.step): r for r in rows}

    def save_step_result(
        self,
        *,
        image_id: str,
        job_id: str,
        step: str,
        input_fingerprint: str,
        status: str,
        provider: str | None,
        result: dict[str, Any] | None,
        error_message: str | None,
        duration_ms: int,
    ) -> None:
        values = {
            "input_fingerprint": input_fingerprint,
            "status": status,
            "provider": provider,
            "result": result,
            "error_message": error_message,
            "duration_ms": duration_ms,
            "updated_at": utcnow(),
        }
        with self.session() as s:
            # One statement either way, so two runs of the same job cannot both insert.
            insert = _dialect_insert(s, StepResultRow).values(
                image_id=image_id, step=step, job_id=job_id, **values
            )
            s.execute(
                insert.on_conflict_do_update(
                    index_elements=[StepResultRow.image_id, StepResultRow.step], set_=values
                )
            )

    def set_image_outcome(
        self,
        *,
        image_id: str,
        expected_hash: str | None,
        status: str,
        error_message: str | None,
        error_stage: str | None,
        meta: dict[str, Any],
        finding_count: int = 0,
    ) -> bool:
        """Set the outcome of processing unless the file changed meanwhile (compare-and-set)."""
        with self.session() as s:
            result = s.execute(
                update(ImageRow)
                .where(
                    ImageRow.image_id == image_id,
                    ImageRow.content_hash == expected_hash,
                    ImageRow.status != "removed",
                )
                .values(
                    status=status,
                    error_message=error_message,
                    error_stage=error_stage,
                    meta=meta,
                    finding_count=finding_count,
                    updated_at=utcnow(),
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_image_meta(self, image_id: str, meta: dict[str, Any]) -> None:
        with self.session() as s:
            s.execute(update(ImageRow).where(ImageRow.image_id == image_id).values(meta=meta))

    def set_gallery_hash(self, image_id: str, gallery_hash: str | None) -> None:
        with self.session() as s:
            s.execute(
                update(ImageRow)
                .where(ImageRow.image_id == image_id)
                .values(gallery_hash=gallery_hash)
            )

    # -- review (the desk) --------------------------------------------------------------

    def get_image(self, image_id: str) -> ImageRow | None:
        with self.session() as s:
            return s.get(ImageRow, image_id)

    def _update_photo(self, job_id: str, image_id: str, values: dict[str, Any]) -> bool:
        with self.session() as s:
            result = s.execute(
                update(ImageRow)
                .where(ImageRow.image_id == image_id, ImageRow.job_id == job_id)
                .values(**values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_hidden(self, job_id: str, image_id: str, *, hidden: bool, by: str) -> bool:
        """Hide a photo from the gallery or show it again; False if the job has no such photo."""
        if hidden:
            return self._update_photo(job_id, image_id, {"hidden_at": utcnow(), "hidden_by": by})
        return self._update_photo(job_id, image_id, {"hidden_at": None, "hidden_by": None})

    def set_checked(self, job_id: str, image_id: str, *, checked: bool, by: str) -> bool:
        """Mark the findings of the photo's current content as checked (or not any more)."""
        values: dict[str, Any] = {"checked_hash": None, "checked_at": None, "checked_by": None}
        if checked:
            values = {
                "checked_hash": ImageRow.content_hash,
                "checked_at": utcnow(),
                "checked_by": by,
            }
        return self._update_photo(job_id, image_id, values)

    # -- redactions (the desk and the redaction policy) -----------------------------------

    def redactions_of_job(self, job_id: str) -> dict[str, list[RedactionRow]]:
        """image_id -> its redactions, undone ones included, oldest first."""
        with self.session() as s:
            stmt = (
                select(RedactionRow).where(RedactionRow.job_id == job_id).order_by(RedactionRow.id)
            )
            out: dict[str, list[RedactionRow]] = {}
            for row in s.scalars(stmt):
                out.setdefault(row.image_id, []).append(row)
            return out

    def add_redactions(self, job_id: str, new: Sequence[NewRedaction]) -> int:
        """Record redactions of photos of this job, each decided for its photo's current
        content; photos the job does not have are skipped. Returns how many were recorded."""
        if not new:
            return 0
        with self.session() as s:
            hashes = dict(
                s.execute(
                    select(ImageRow.image_id, ImageRow.content_hash).where(
                        ImageRow.job_id == job_id,
                        ImageRow.image_id.in_({r.image_id for r in new}),
                    )
                ).all()
            )
            now = utcnow()
            rows = [
                RedactionRow(
                    job_id=job_id,
                    created_at=now,
                    confirmed_hash=hashes[r.image_id],
                    **vars(r),
                )
                for r in new
                if r.image_id in hashes
            ]
            s.add_all(rows)
            return len(rows)

    def _update_redaction(
        self, job_id: str, image_id: str, redaction_id: int, values: dict[str, Any]
    ) -> bool:
        with self.session() as s:
            result = s.execute(
                update(RedactionRow)
                .where(
                    RedactionRow.id == redaction_id,
                    RedactionRow.image_id == image_id,
                    RedactionRow.job_id == job_id,
                )
                .values(**values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def undo_redaction(self, job_id: str, image_id: str, redaction_id: int, *, by: str) -> bool:
        """Take a redaction back (it stays recorded as undone); False if there is no such one."""
        values = {"undone_at": utcnow(), "undone_by": by}
        return self._update_redaction(job_id, image_id, redaction_id, values)

    def confirm_redaction(self, job_id: str, image_id: str, redaction_id: int) -> bool:
        """Keep a redaction for the photo's current (replaced) content; who decided the area
        stays recorded."""
        with self.session() as s:
            content = s.scalar(select(ImageRow.content_hash).where(ImageRow.image_id == image_id))
        return self._update_redaction(job_id, image_id, redaction_id, {"confirmed_hash": content})

    def set_gallery_copy(
        self, image_id: str, *, gallery_hash: str | None, redactions: str, rendition: str
    ) -> None:
        """Record what the photo's copy in gallery/ was made from (its fingerprint)."""
        with self.session() as s:
            s.execute(
                update(ImageRow)
                .where(ImageRow.image_id == image_id)
                .values(
                    gallery_hash=gallery_hash,
                    gallery_redactions=redactions,
                    gallery_rendition=rendition,
                    rendition_error=None,
                )
            )

    def set_rendition_error(self, image_id: str, message: str | None) -> None:
        with self.session() as s:
            s.execute(
                update(ImageRow)
                .where(ImageRow.image_id == image_id)
                .values(rendition_error=message)
            )

    # -- exposé content (the desk) ------------------------------------------------------

    def semantic_values(self, job_id: str) -> dict[str, dict[str, SemanticValueRow]]:
        """image_id -> field -> the value a person set, for every photo of the job."""
        out: dict[str, dict[str, SemanticValueRow]] = {}
        with self.session() as s:
            rows = s.scalars(select(SemanticValueRow).where(SemanticValueRow.job_id == job_id))
            for row in rows:
                out.setdefault(row.image_id, {})[row.field] = row
        return out

    def semantic_values_of_image(self, image_id: str) -> dict[str, SemanticValueRow]:
        """field -> the value a person set for this photo."""
        with self.session() as s:
            rows = s.scalars(select(SemanticValueRow).where(SemanticValueRow.image_id == image_id))
            return {row.field: row for row in rows}

    def save_semantic_values(
        self,
        job_id: str,
        image_id: str,
        values: dict[str, Any],
        cleared: Sequence[str],
        *,
        source: str,
        by: str,
    ) -> None:
        """Set `values` (field -> JSON value) and delete the `cleared` fields, in one
        transaction."""
        now = utcnow()
        with self.session() as s:
            if cleared:
                s.execute(
                    delete(SemanticValueRow).where(
                        SemanticValueRow.image_id == image_id,
                        SemanticValueRow.field.in_(list(cleared)),
                    )
                )
            for name, value in values.items():
                changes = {"value": value, "source": source, "set_by": by, "set_at": now}
                insert = _dialect_insert(s, SemanticValueRow).values(
                    image_id=image_id, field=name, job_id=job_id, **changes
                )
                s.execute(
                    insert.on_conflict_do_update(
                        index_elements=[SemanticValueRow.image_id, SemanticValueRow.field],
                        set_=changes,
                    )
                )

    def set_gallery_positions(self, job_id: str, positions: dict[str, int]) -> None:
        """Daniel's gallery order: image_id -> position (0 first)."""
        with self.session() as s:
            for image_id, position in positions.items():
                s.execute(
                    update(ImageRow)
                    .where(ImageRow.image_id == image_id, ImageRow.job_id == job_id)
                    .values(gallery_position=position)
                )

    def set_cover(self, job_id: str, image_id: str | None) -> None:
        """The job's cover photo (None: no cover)."""
        with self.session() as s:
            s.execute(update(JobRow).where(JobRow.job_id == job_id).values(cover_image_id=image_id))

    def job_summaries(
        self, *, offset: int, limit: int, needs_attention: bool
    ) -> tuple[list[JobSummary], int]:
        """One page of jobs, newest activity first, with their photo counts; and the total.

        Paged in SQL: the counts are aggregated for the page's jobs only. A job needs
        attention while a photo failed, a shown photo has unchecked privacy findings, or
        changes wait for a release.
        """
        img = ImageRow
        unchecked = and_(
            img.status == "processed",
            img.hidden_at.is_(None),
            img.finding_count > 0,
            or_(img.checked_hash.is_(None), img.checked_hash != img.content_hash),
        )
        where = []
        if needs_attention:
            where.append(
                or_(
                    JobRow.gallery_status == "update_pending",
                    exists().where(img.job_id == JobRow.job_id, img.status == "error"),
                    exists().where(img.job_id == JobRow.job_id, unchecked),
                )
            )
        with self.session() as s:
            total = s.execute(select(func.count()).select_from(JobRow).where(*where)).scalar_one()
            jobs = list(
                s.scalars(
                    select(JobRow)
                    .where(*where)
                    .order_by(JobRow.last_activity_at.desc(), JobRow.job_id)
                    .offset(offset)
                    .limit(limit)
                )
            )
            if not jobs:
                return [], total

            def tally(condition: Any) -> Any:
                return func.sum(case((condition, 1), else_=0))

            counts = {
                row.job_id: row
                for row in s.execute(
                    select(
                        img.job_id,
                        tally(img.status == "pending_processing").label("pending"),
                        tally(img.status == "processed").label("processed"),
                        tally(img.status == "error").label("error"),
                        tally(and_(img.hidden_at.is_not(None), img.status != "removed")).label(
                            "hidden"
                        ),
                        tally(unchecked).label("unchecked"),
                    )
                    .where(img.job_id.in_([j.job_id for j in jobs]))
                    .group_by(img.job_id)
                )
            }
        summaries = []
        for job in jobs:
            c = counts.get(job.job_id)
            summaries.append(
                JobSummary(
                    job=job,
                    pending=int(c.pending) if c else 0,
                    processed=int(c.processed) if c else 0,
                    error=int(c.error) if c else 0,
                    hidden=int(c.hidden) if c else 0,
                    unchecked=int(c.unchecked) if c else 0,
                )
            )
        return summaries, total

    # -- release ------------------------------------------------------------------------

    def transition_gallery(
        self,
        job_id: str,
        event: GalleryEvent,
        outbox: OutboxEvent | None = None,
        *,
        at: datetime | None = None,
        **values: Any,
    ) -> tuple[GalleryState, GalleryState]:
        """Move the job's gallery by `event` (and set `values`); returns (before, after).

        `outbox`, when given, is queued in the same transaction, as happening `at` (now).
        """
        with self.session() as s:
            moved = _transition(s, job_id, event, values)
            if outbox is not None:
                _queue_event(s, job_id, outbox, at or utcnow())
            return moved

    def record_release(
        self,
        *,
        job_id: str,
        approved_by: str,
        note: str,
        payload: dict[str, Any],
        kind: str = "gallery.released",
    ) -> NotificationRow:
        """Make the gallery customer-visible and queue exactly one notification, atomically."""
        now = utcnow()
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                raise KeyError(job_id)
            release_number = job.release_count + 1
            _transition(
                s,
                job_id,
                GalleryEvent.RELEASE,
                {
                    "release_count": release_number,
                    "released_at": now,
                    "last_activity_at": now,
                    "released_by": approved_by,
                    "release_note": note,
                },
            )
            return _queue_event(s, job_id, OutboxEvent(kind, payload), now)

    def record_revoke(
        self, *, job_id: str, revoked_by: str, note: str, outbox: OutboxEvent | None = None
    ) -> None:
        """Return a released gallery to internal, recording who did it and why."""
        now = utcnow()
        self.transition_gallery(
            job_id,
            GalleryEvent.REVOKE,
            outbox,
            revoked_at=now,
            revoked_by=revoked_by,
            revoke_note=note,
            last_activity_at=now,
        )

    # -- notification outbox ------------------------------------------------------------

    def pending_notifications(self, job_id: str) -> list[NotificationRow]:
        with self.session() as s:
            stmt = select(NotificationRow).where(
                NotificationRow.job_id == job_id, NotificationRow.status == "pending"
            )
            return list(s.scalars(stmt.order_by(NotificationRow.id)))

    def notifications(self, job_id: str) -> list[NotificationRow]:
        with self.session() as s:
            stmt = select(NotificationRow).where(NotificationRow.job_id == job_id)
            return list(s.scalars(stmt.order_by(NotificationRow.id)))

    def get_notification(self, notification_id: int) -> NotificationRow | None:
        with self.session() as s:
            return s.get(NotificationRow, notification_id)

    def notifications_with_status(self, status: str, limit: int = 100) -> list[NotificationRow]:
        """Rows in `status` across all jobs, oldest first."""
        with self.session() as s:
            stmt = select(NotificationRow).where(NotificationRow.status == status)
            return list(s.scalars(stmt.order_by(NotificationRow.id).limit(limit)))

    def due_notifications(self, now: datetime, limit: int) -> list[NotificationRow]:
        """Pending rows whose next attempt is due and that no earlier pending row of their job
        holds back, the longest-waiting first (so at most one per job)."""
        with self.session() as s:
            stmt = (
                select(NotificationRow)
                .where(
                    NotificationRow.status == "pending",
                    NotificationRow.next_attempt_at <= now,
                    ~_earlier_pending(NotificationRow),
                )
                .order_by(NotificationRow.next_attempt_at, NotificationRow.id)
                .limit(limit)
            )
            return list(s.scalars(stmt))

    def claim_notification(
        self, notification_id: int, attempts_seen: int, now: datetime, lease_until: datetime
    ) -> NotificationRow | None:
        """Take a due row for one attempt (compare-and-set on its attempt count); the row as
        claimed, or None when it is not due any more or another deliverer took it.

        The attempt counts from here, and the row is not due again before `lease_until`: a
        second deliverer cannot take it meanwhile, and a crashed one leaves it due later.
        The row is read back in the claiming transaction, so the attempt sends what a merge
        of a quiet event wrote before the claim.
        """
        with self.session() as s:
            result = s.execute(
                update(NotificationRow)
                .where(
                    NotificationRow.id == notification_id,
                    NotificationRow.status == "pending",
                    NotificationRow.attempts == attempts_seen,
                    NotificationRow.next_attempt_at <= now,
                    ~_earlier_pending(NotificationRow),
                )
                .values(
                    attempts=attempts_seen + 1,
                    last_attempt_at=now,
                    next_attempt_at=lease_until,
                )
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            return s.execute(
                select(NotificationRow).where(NotificationRow.id == notification_id)
            ).scalar_one()

    def finish_attempt(
        self,
        notification_id: int,
        attempt: int,
        *,
        status: str,
        error: str | None,
        next_attempt_at: datetime | None,
        sent_at: datetime | None = None,
    ) -> None:
        """Record how attempt number `attempt` (the claimed one) ended."""
        with self.session() as s:
            s.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id, NotificationRow.attempts == attempt)
                .values(
                    status=status,
                    error_message=error,
                    next_attempt_at=next_attempt_at,
                    sent_at=sent_at,
                )
            )

    def reset_notification(self, notification_id: int, now: datetime) -> bool:
        """A failed row becomes pending again with a fresh set of attempts, due at once."""
        with self.session() as s:
            result = s.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id, NotificationRow.status == "failed")
                .values(status="pending", attempts=0, next_attempt_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
