"""Launching release_gallery and revoke_gallery through Dagster's GraphQL API.

Every release stays a Dagster run with its history: the desk only submits the run, with the
same config the launchpad takes, and follows its status. It posts two small GraphQL
documents to the webserver's /graphql over HTTP, so the desk never imports Dagster itself.
"""

import re
from dataclasses import dataclass
from typing import Any

import httpx

RELEASE_JOB, RELEASE_OP = "release_gallery", "release_job_gallery"
REVOKE_JOB, REVOKE_OP = "revoke_gallery", "revoke_job_gallery"
# The tag a partitioned run of one job (photo job) carries, as the launchpad sets it (the same
# as pix_pipeline.defs.partitions.PARTITION_TAG, which the desk does not import: it loads Dagster).
PARTITION_TAG = "dagster/partition"
FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Which code location and repository hold a job: the launch names them.
_JOB_PLACES = """
query PixJobPlaces {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on Error { message }
  }
}
"""
_LAUNCH = """
mutation PixLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""
_STATUS = """
query PixRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on Error { message }
  }
}
"""


class LaunchFailed(RuntimeError):
    """Dagster could not be reached or refused the run; the message says which."""


def _refusal(result: dict[str, Any]) -> LaunchFailed:
    """A GraphQL result other than the one asked for, as one line for Daniel's page."""
    kind = str(result.get("__typename", "unknown answer"))
    messages = [str(e.get("message", "")) for e in result.get("errors") or []]
    message = result.get("message") or "; ".join(m for m in messages if m)
    text = f"{kind}: {message}" if message else kind
    return LaunchFailed(text.splitlines()[0])


@dataclass(frozen=True)
class Launcher:
    """The Dagster webserver at `url` (PIX_DAGSTER_URL)."""

    url: str
    timeout: int = 30

    def _query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of one GraphQL request; LaunchFailed when it does not go through."""
        try:
            response = httpx.post(
                f"{self.url.rstrip('/')}/graphql",
                json={"query": document, "variables": variables or {}},
                timeout=self.timeout,
            )
            response.raise_for_status()
            answer = response.json()
        except httpx.HTTPError as exc:
            raise LaunchFailed(str(exc).strip().split("\n")[0] or type(exc).__name__) from exc
        except ValueError as exc:  # not JSON: something else listens there
            raise LaunchFailed("the answer is not GraphQL (JSON)") from exc
        if answer.get("errors"):
            raise LaunchFailed(str(answer["errors"][0].get("message", "GraphQL error")))
        data: dict[str, Any] = answer.get("data") or {}
        return data

    def ping(self) -> None:
        """Raise LaunchFailed unless the webserver answers GraphQL."""
        self._query("{ version }")

    def _place(self, job_name: str) -> tuple[str, str]:
        """(code location, repository) of the only job of that name."""
        found = self._query(_JOB_PLACES)["repositoriesOrError"]
        if found.get("__typename") != "RepositoryConnection":
            raise _refusal(found)
        places = [
            (repo["location"]["name"], repo["name"])
            for repo in found["nodes"]
            if any(job["name"] == job_name for job in repo["jobs"])
        ]
        if len(places) != 1:
            where = ", ".join("/".join(p) for p in places) or "no code location"
            raise LaunchFailed(f"job {job_name} is in {where}; the desk needs exactly one")
        return places[0]

    def _submit(self, job_name: str, op_name: str, job_id: str, config: dict[str, Any]) -> str:
        location, repository = self._place(job_name)
        params = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": repository,
                "jobName": job_name,
            },
            "runConfigData": {"ops": {op_name: {"config": config}}},
            "executionMetadata": {"tags": [{"key": PARTITION_TAG, "value": job_id}]},
        }
        launched = self._query(_LAUNCH, {"executionParams": params})["launchRun"]
        if launched.get("__typename") != "LaunchRunSuccess":
            raise _refusal(launched)
        return str(launched["run"]["runId"])

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
        found = self._query(_STATUS, {"runId": run_id})["runOrError"]
        if found.get("__typename") != "Run":
            raise _refusal(found)
        return str(found["status"])
