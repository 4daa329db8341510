"""The registry database schema: the system of record for jobs, images and step results.

The web backend reads these tables, so their names and columns are a public contract
(documented in docs/internals.md). SQLite by default, PostgreSQL in production: portable types only.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class JobRow(Base):
    """One photo job (`pix-jobs/{job_id}/`) and the state of its customer gallery."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gallery_status: Mapped[str] = mapped_column(String(32), default="none")
    gallery_visibility: Mapped[str] = mapped_column(String(32), default="internal")
    # Bumped whenever the sensor registers a change; a run that finishes the gallery for
    # revision N sets processed_revision = N. revision > processed_revision means "has work".
    revision: Mapped[int] = mapped_column(Integer, default=0)
    processed_revision: Mapped[int] = mapped_column(Integer, default=0)
    expose_hash: Mapped[str | None] = mapped_column(String(64))
    gallery_expose_hash: Mapped[str | None] = mapped_column(String(64))
    release_count: Mapped[int] = mapped_column(Integer, default=0)
    released_at: Mapped[datetime | None] = mapped_column()
    released_by: Mapped[str | None] = mapped_column(String(200))
    release_note: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_note: Mapped[str | None] = mapped_column(Text)
    # Last file change or release: jobs quiet for longer than PIX_ACTIVE_JOB_DAYS are idle,
    # listed only by the slower idle sweep (last_swept_at) to keep storage polling cheap.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_swept_at: Mapped[datetime | None] = mapped_column()
    # Digest of the last complete listing of final_input/ (names, sizes, mtimes): a tick whose
    # listing has the same digest skips the job without reading its image rows.
    listing_hash: Mapped[str | None] = mapped_column(String(64))
    # The storage's stamp of final_input/ taken before that listing (local folders: device,
    # inode and mtime). While it holds, no file was added, removed or renamed, and a tick
    # skips the listing; files rewritten in place are found by the rotating verification.
    folder_stamp: Mapped[str | None] = mapped_column(String(100))
    # When more than half of the job's files were first seen missing at once: their removal
    # is held for PIX_REMOVAL_HOLD_MINUTES from here (None: nothing held).
    removal_hold_since: Mapped[datetime | None] = mapped_column()
    # The `sequence` of the job's newest outbox event; the next one takes this + 1 or the
    # time in milliseconds, whichever is larger (see registry.repository._next_sequence).
    notification_sequence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The photo Daniel chose as the gallery's cover (None: none). A hidden cover stays chosen
    # but the customer's document names no cover while it is hidden.
    cover_image_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_jobs_work", "revision", "processed_revision"),
        Index("ix_jobs_activity", "last_activity_at"),
    )


class ImageRow(Base):
    """One file of `final_input/` (brief 5.1), kept after it vanished as status 'removed'."""

    __tablename__ = "images"

    image_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.job_id"), index=True)
    filename: Mapped[str] = mapped_column(String(1024))
    storage_path: Mapped[str] = mapped_column(String(1200))
    source: Mapped[str] = mapped_column(String(16), default="editor")
    status: Mapped[str] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    # 'validation' when the file itself was rejected (it never enters processing), else the
    # step that failed.
    error_stage: Mapped[str | None] = mapped_column(String(32))
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # content_hash of the copy now in gallery/images/, NULL when there is none.
    gallery_hash: Mapped[str | None] = mapped_column(String(64))
    # With gallery_hash, the copy's fingerprint: the digest of the redacted areas it was made
    # with ("" or NULL: none) and the rendition (metadata rule and renderer version).
    gallery_redactions: Mapped[str | None] = mapped_column(String(64))
    gallery_rendition: Mapped[str | None] = mapped_column(String(64))
    # Why the customer's copy of the current version could not be made (NULL: it could).
    rendition_error: Mapped[str | None] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column()
    # Privacy categories detected in the settled meta (0 when none): lets the jobs list count
    # photos with unchecked findings in SQL without reading every meta document.
    finding_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Daniel's review (the desk). A hidden photo stays processed but never reaches the gallery.
    hidden_at: Mapped[datetime | None] = mapped_column()
    hidden_by: Mapped[str | None] = mapped_column(String(200))
    # content_hash of the version whose findings Daniel checked: a changed file is unchecked.
    checked_hash: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column()
    checked_by: Mapped[str | None] = mapped_column(String(200))
    # Daniel's gallery order (0 first); None for photos he has not placed: they come after the
    # placed ones, by file name. Hidden photos keep their place.
    gallery_position: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("job_id", "filename", name="uq_images_job_filename"),
        Index("ix_images_job_status", "job_id", "status"),
    )


class RedactionRow(Base):
    """One area of a photo that the customer's copies obscure: a finding Daniel (or the
    policy) chose, or a rectangle he dragged. Undone rows stay, so the policy does not apply
    again to a finding Daniel undid; `confirmed_hash` is the content the area was decided for
    (a replaced file leaves it "to be confirmed", like checked_hash)."""

    __tablename__ = "redactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.image_id"), index=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    # faces, licence_plates, house_numbers, text, logos, or `area` for a dragged rectangle.
    category: Mapped[str] = mapped_column(String(32))
    # The box in 0–1 coordinates of the upright photo.
    x0: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    # The finding it came from (its label and read text), NULL for a dragged area.
    finding_label: Mapped[str | None] = mapped_column(String(64))
    finding_text: Mapped[str | None] = mapped_column(Text)
    # `daniel` or `policy` (PIX_REDACT_AUTO).
    source: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_hash: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column()
    undone_by: Mapped[str | None] = mapped_column(String(200))


class StepResultRow(Base):
    """The latest result of one per-image step, with the input fingerprint it was computed from."""

    __tablename__ = "step_results"

    image_id: Mapped[str] = mapped_column(ForeignKey("images.image_id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SemanticValueRow(Base):
    """A semantic field of a photo that a person set (caption, room type, …): it outranks the
    provider's value in every document and is kept across reruns and replaced files. Deleting
    the row gives the field back to the provider."""

    __tablename__ = "semantic_fields"

    image_id: Mapped[str] = mapped_column(ForeignKey("images.image_id"), primary_key=True)
    # caption_short, caption_long, room_type, view_type or objects.
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    # The value as JSON: a string, or a list of strings for objects.
    value: Mapped[Any] = mapped_column(JSON)
    # Who gave it: `daniel` (the desk) for now.
    source: Mapped[str] = mapped_column(String(64))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationRow(Base):
    """The outbox: one event for the web backend, written in the transaction of the change it
    announces, then delivered by notification_outbox_sensor with retries and backoff.

    `status`: `pending` (due at `next_attempt_at`), `sent` (a 2xx answer; never sent again) or
    `failed` (gave up; `retry_notification` makes it pending again). `error_message` holds the
    last attempt's error.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.job_id"), index=True)
    # The event type: gallery.released, gallery.revoked or gallery.draft_ready.
    kind: Mapped[str] = mapped_column(String(64))
    # The release the event belongs to (for gallery.draft_ready: the last one, 0 before any).
    release_number: Mapped[int] = mapped_column(Integer)
    # Orders the job's events: larger is later, never reused (not even after a restore), with
    # gaps. Sent in the body; the deliverer sends a job's events in this order.
    sequence: Mapped[int] = mapped_column(BigInteger)
    # The `webhook-id` header: the same on every attempt, so receivers can drop repeats.
    webhook_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint("job_id", "sequence", name="uq_notifications_job_sequence"),
        UniqueConstraint("webhook_id", name="uq_notifications_webhook_id"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        # "Is an earlier row of this job pending?", asked for every due row.
        Index("ix_notifications_job_pending", "job_id", "status", "sequence"),
    )
