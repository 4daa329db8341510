"""Cost of finding the due notifications in a large outbox: 10,000 jobs x 20 events.

Every job has 20 sent events (months of releases and drafts); every tenth job also has one
event waiting for its retry (not due) with two more queued behind it, and every fifth job one
due event. The per-job order (no event while an earlier one of its job is pending) is part of
the query, so it is timed on the outbox as it grows: `due_notifications(now, 50)`, as each
tick of notification_outbox_sensor calls it; and what queueing one event (its sequence, the
quiet-wait check) adds to the transaction of the change it announces.

    .venv/bin/python benchmarks/outbox_due.py [--jobs 10000] [--events 20] [--database-url URL]
"""

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert

from pix_pipeline.domain.gallery_state import GalleryEvent
from pix_pipeline.registry.repository import OutboxEvent, Registry, make_engine
from pix_pipeline.registry.schema import JobRow, NotificationRow, utcnow


def build(registry: Registry, jobs: int, events: int) -> None:
    now = utcnow()
    base = int(now.timestamp() * 1000) - jobs * events
    with registry.session() as s:
        s.execute(
            insert(JobRow),
            [
                {
                    "job_id": f"JOB{j:05d}",
                    "gallery_status": "draft_ready",
                    "gallery_visibility": "internal",
                    "notification_sequence": base + events + 3,
                    "last_activity_at": now,
                }
                for j in range(jobs)
            ],
        )
        rows = []
        for j in range(jobs):
            extra: list[tuple[str, object]] = []
            if j % 10 == 0:  # a retry an hour away, and two behind it
                extra = [("pending", now + timedelta(hours=1)), ("pending", now), ("pending", now)]
            elif j % 5 == 0:
                extra = [("pending", now - timedelta(seconds=5))]
            states = [("sent", None)] * events + extra
            for n, (status, due) in enumerate(states):
                rows.append(
                    {
                        "job_id": f"JOB{j:05d}",
                        "kind": "gallery.draft_ready",
                        "release_number": 0,
                        "sequence": base + n,
                        "webhook_id": f"msg_{uuid.uuid4().hex}",
                        "payload": {"job_id": f"JOB{j:05d}"},
                        "status": status,
                        "attempts": 1 if status == "sent" or n == events else 0,
                        "next_attempt_at": due,
                        "created_at": now - timedelta(days=1),
                    }
                )
        for start in range(0, len(rows), 20_000):
            s.execute(insert(NotificationRow), rows[start : start + 20_000])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/registry.sqlite3"
        registry = Registry(make_engine(url))
        try:
            started = time.perf_counter()
            build(registry, args.jobs, args.events)
            total = args.jobs * args.events
            print(f"built {total} outbox rows in {time.perf_counter() - started:.0f} s ({url})")
            due_times = []
            for _ in range(20):
                started = time.perf_counter()
                due = registry.due_notifications(utcnow(), 50)
                due_times.append(time.perf_counter() - started)
            # Only rows with no pending predecessor: the waiting retries hold their jobs back.
            assert len(due) == 50 and all(int(r.job_id[3:]) % 10 != 0 for r in due), due
            queue_times, bare_times = [], []
            for j in range(1, 81, 2):  # jobs with no pending row
                job_id = f"JOB{j:05d}"
                # The anchor: the same transaction (a gallery transition) without an event.
                started = time.perf_counter()
                registry.transition_gallery(job_id, GalleryEvent.DRAFT_SYNCED)
                bare_times.append(time.perf_counter() - started)
                event = OutboxEvent("gallery.revoked", {"job_id": job_id})
                started = time.perf_counter()
                registry.transition_gallery(job_id, GalleryEvent.DRAFT_SYNCED, event)
                queue_times.append(time.perf_counter() - started)
        finally:
            registry.dispose()
    bare = statistics.median(bare_times)
    rows = [
        ("due_notifications(50), median s", statistics.median(due_times), 0.05),
        # What queueing adds to the transaction it rides in (sequence, merge check).
        ("queue one event, added median s", statistics.median(queue_times) - bare, 0.02),
    ]
    print(f"anchor: the transition alone, median {bare:.4f} s")
    ok = True
    print(f"{'name':<36}{'ours':>9}{'target':>9}  verdict")
    for name, ours, target in rows:
        passed = ours <= target
        ok &= passed
        print(f"{name:<36}{ours:>9.4f}{target:>9.3f}  {'PASS' if passed else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
