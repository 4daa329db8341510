"""Launching release_gallery and revoke_gallery through Dagster's GraphQL API.

Every release stays a Dagster run with its history: the desk only submits the run, with the
same config the launchpad takes, and follows its status. The official dagster-graphql client
does the talking. It loads all of Dagster when imported, so it is imported only when a run is
launched or followed: the desk's pages, its tests and its start never load Dagster.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from dagster_graphql import DagsterGraphQLClient

T = TypeVar("T")

RELEASE_JOB, RELEASE_OP = "release_gallery", "release_job_gallery"
REVOKE_JOB, REVOKE_OP = "revoke_gallery", "revoke_job_gallery"
# The tag a partitioned run of one job (photo job) carries, as the launchpad sets it (the same
# as pix_pipeline.defs.partitions.PARTITION_TAG, which the desk does not import: it loads Dagster).
PARTITION_TAG = "dagster/partition"
FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class LaunchFailed(RuntimeError):
    """Dagster could not be reached or refused the run; the message says which."""


@dataclass(frozen=True)
class Launcher:
    """The Dagster webserver at `url` (PIX_DAGSTER_URL)."""

    url: str
    timeout: int = 30

    def _call(self, action: "Callable[[DagsterGraphQLClient], T]") -> T:
        """One request through the official client; LaunchFailed when it does not go through."""
        from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

        parts = urlsplit(self.url)
        client = DagsterGraphQLClient(
            parts.hostname or "127.0.0.1",
            port_number=parts.port,
            use_https=parts.scheme == "https",
            timeout=self.timeout,
            path_prefix=parts.path.rstrip("/"),
        )
        try:
            return action(client)
        except (DagsterGraphQLClientError, OSError) as exc:
            # The client's messages can embed the whole query; the first line says enough.
            text = str(exc).strip()
            raise LaunchFailed(text.splitlines()[0] if text else type(exc).__name__) from exc

    def _submit(self, job_name: str, op_name: str, job_id: str, config: dict[str, Any]) -> str:
        return self._call(
            lambda client: client.submit_job_execution(
                job_name,
                run_config={"ops": {op_name: {"config": config}}},
                tags={PARTITION_TAG: job_id},
            )
        )

    def release(self, job_id: str, *, approved_by: str, note: str, acknowledge: bool) -> str:
        """Submit a release_gallery run for the job; returns the run id."""
        config = {
            "approved_by": approved_by,
            "note": note,
            "acknowledge_privacy_findings": acknowledge,
        }
        return self._submit(RELEASE_JOB, RELEASE_OP, job_id, config)

    def revoke(self, job_id: str, *, revoked_by: str, note: str) -> str:
        """Submit a revoke_gallery run for the job; returns the run id."""
        return self._submit(REVOKE_JOB, REVOKE_OP, job_id, {"revoked_by": revoked_by, "note": note})

    def status(self, run_id: str) -> str:
        """The run's status name (QUEUED, STARTED, SUCCESS, FAILURE, …)."""
        return self._call(lambda client: str(client.get_run_status(run_id).value))

    def run_url(self, run_id: str) -> str:
        """The run's page in the Dagster UI."""
        return f"{self.url}/runs/{run_id}"
