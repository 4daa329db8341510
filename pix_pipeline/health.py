"""Health checks that need no Dagster: the registry, the photo storage, the pinned model files,
the webhook receiver and the machine's memory.

`pix-pipeline doctor` (pix_pipeline/defs/doctor.py) runs them next to the checks of Dagster's
instance; the desk's `/health` runs the registry and storage checks. Each check gives one
plain line: what was checked and, when it failed, why and what to do.
"""

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pix_pipeline.analysis.local.onnx_models import ModelUnavailable, PinnedModel
from pix_pipeline.domain import layout
from pix_pipeline.registry.migrations import MigrationError, current_revision, head_revision
from pix_pipeline.registry.repository import make_engine
from pix_pipeline.storage.base import Storage

# Peak memory of one process_pix_job run with the privacy models loaded, and of the services
# next to the runs (two webservers, the daemon, the code server, the desk), in MiB. Measured by
# benchmarks/step_memory.py (docs/production.md, "How many runs at once").
RUN_MEMORY_MIB = 490
SERVICES_MEMORY_MIB = 1000
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check: `name` as the operator knows the part, and one plain line."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def _reason(exc: BaseException) -> str:
    """An exception as one line, without SQLAlchemy's SQL and link."""
    text = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
    return " ".join(text.split())


def check_registry(url: str) -> Check:
    """The registry answers and its schema is at the newest revision (nothing is migrated)."""
    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision = current_revision(connection)
    except (SQLAlchemyError, MigrationError, OSError) as exc:
        return Check("registry", False, f"cannot reach {shown}: {_reason(exc)}")
    finally:
        engine.dispose()
    head = head_revision()
    if revision != head:
        return Check(
            "registry",
            False,
            f"{shown} is at schema {revision or 'none'}, the code needs {head}: run"
            " `pix-pipeline migrate`",
        )
    return Check("registry", True, f"{shown} reachable, schema at {head}")


def check_storage(storage: Storage) -> Check:
    """A probe object can be written, read back and deleted where pix-jobs/ lives."""
    key = layout.health_probe_key(uuid.uuid4().hex)
    data = b"pix_pipeline health probe\n"
    try:
        storage.write_bytes(key, data)
        back = storage.read_bytes(key)
        storage.delete(key)
    except OSError as exc:
        return Check(
            "storage", False, f"cannot write and read {storage.location(key)}: {_reason(exc)}"
        )
    if back != data:
        return Check("storage", False, f"{storage.location(key)} read back other bytes")
    return Check("storage", True, f"{storage.describe()} readable and writable")


def check_models(models: Iterable[PinnedModel]) -> Check:
    """Every model file is installed and has its pinned SHA-256."""
    names = []
    for model in models:
        try:
            model.read()
        except (ModelUnavailable, OSError) as exc:
            return Check("models", False, _reason(exc))
        names.append(f"{model.what} ({model.sha256[:12]})")
    return Check("models", True, "present with pinned checksums: " + ", ".join(names))


def check_webhook(url: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> Check:
    """The webhook receiver's host name resolves and its port accepts a connection."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return Check("webhook", False, f"{host} does not resolve: {_reason(exc)}")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        return Check("webhook", False, f"{where} refuses or does not answer: {_reason(exc)}")
    return Check("webhook", True, f"{where} resolves ({len(addresses)} addresses) and connects")


def machine_memory_mib() -> int:
    """Physical memory of this machine."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


def check_memory(max_concurrent_runs: int, memory_mib: int) -> Check:
    """`max_concurrent_runs` runs plus the services fit into `memory_mib`."""
    needed = max_concurrent_runs * RUN_MEMORY_MIB + SERVICES_MEMORY_MIB
    fits = max(0, (memory_mib - SERVICES_MEMORY_MIB) // RUN_MEMORY_MIB)
    detail = (
        f"max_concurrent_runs {max_concurrent_runs} needs about {needed} MiB"
        f" ({RUN_MEMORY_MIB} per run + {SERVICES_MEMORY_MIB} for the services),"
        f" the machine has {memory_mib} MiB"
    )
    if needed > memory_mib:
        return Check("memory", False, f"{detail}: set max_concurrent_runs to at most {fits}")
    return Check("memory", True, detail)


def report(checks: Sequence[Check]) -> tuple[str, bool]:
    """The checks' lines, and whether all passed."""
    return "\n".join(c.line() for c in checks), all(c.ok for c in checks)
