"""The README's promise, end to end: `dagster dev` with the sensor on, photos dropped into a
job folder become a draft gallery, and a release launched through the webserver publishes it."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import free_port, stop_group

PROJECT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
JOB = "DEMO1"

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; dagster dev said:\n{tail}")


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[Path, int, Path]]:
    if not DAGSTER.exists():
        pytest.skip(f"the dagster command is not installed next to {sys.executable}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "scripts" / "dagster.local.yaml", home / "dagster.yaml")
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
    env.update(
        DAGSTER_HOME=str(home),
        PIX_LOCAL_ROOT=str(root),
        PIX_SENSOR_INTERVAL_SECONDS="3",
        PIX_NOTIFY_INTERVAL_SECONDS="3",
        PIX_SETTLE_SECONDS="1",
    )
    log = tmp_path / "dagster_dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DAGSTER), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield root, port, log
    finally:
        stop_group(proc)


def registry_rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    db = root / "pix_registry.sqlite3"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> Any:
    """One query against the webserver's GraphQL endpoint; fails on GraphQL errors."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


CHECK_EXECUTION = """
query ($asset: [String!]!, $check: String!, $partition: String) {
  assetCheckExecutions(assetKey: {path: $asset}, checkName: $check, partition: $partition,
                       limit: 1) {
    status
    evaluation { success severity description partition }
  }
}"""

MATERIALIZATION = """
query ($asset: [String!]!, $partition: String!) {
  assetOrError(assetKey: {path: $asset}) {
    ... on Asset {
      assetMaterializations(partitions: [$partition], limit: 1) {
        partition
        metadataEntries {
          label
          ... on TableMetadataEntry { table { records } }
          ... on MarkdownMetadataEntry { mdStr }
        }
      }
    }
  }
}"""


def check_the_ui(port: int, log: Path) -> None:
    """What Daniel finds in the UI, read through the webserver's GraphQL API."""
    repos = graphql(
        port,
        "{ repositoriesOrError { ... on RepositoryConnection { nodes {"
        " name location { name } sensors { name sensorState { status } } } } } }",
    )["repositoriesOrError"]["nodes"]
    [repo] = repos
    sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
    assert sensors == {"final_input_sensor": "RUNNING", "notification_outbox_sensor": "RUNNING"}

    node = graphql(
        port,
        '{ assetNodeOrError(assetKey: {path: ["gallery"]})'
        " { ... on AssetNode { partitionKeys } } }",
    )["assetNodeOrError"]
    assert JOB in node["partitionKeys"]

    def check(asset: str, name: str) -> dict[str, Any] | None:
        found = graphql(port, CHECK_EXECUTION, {"asset": [asset], "check": name, "partition": JOB})[
            "assetCheckExecutions"
        ]
        return found[0]["evaluation"] if found and found[0]["evaluation"] else None

    gallery_check = wait_for(
        lambda: check("gallery", "gallery_matches_images"), 60, "the gallery check", log
    )
    assert gallery_check["success"] and gallery_check["partition"] == JOB
    schema_check = check("job_expose", "job_expose_schema")
    assert schema_check is not None and schema_check["success"]
    stuck = check("image_meta", "no_image_stuck_pending")
    assert stuck is not None and stuck["success"]
    privacy = check("privacy", "privacy_findings")
    assert privacy is not None and privacy["severity"] == "WARN"

    materialization = graphql(port, MATERIALIZATION, {"asset": ["gallery"], "partition": JOB})
    [latest] = materialization["assetOrError"]["assetMaterializations"]
    entries = {e["label"]: e for e in latest["metadataEntries"]}
    records = [json.loads(r) for r in entries["images"]["table"]["records"]]
    assert sorted(r["filename"] for r in records) == [f"IMG_{i:04d}.jpg" for i in range(5)]
    assert {r["status"] for r in records} == {"processed"}
    assert entries["contact_sheet"]["mdStr"].count("(data:image/jpeg;base64,") == 5

    location, name = repo["location"]["name"], repo["name"]
    schema = graphql(
        port,
        "query ($selector: PipelineSelector!) { runConfigSchemaOrError(selector: $selector) {"
        " ... on RunConfigSchema { allConfigTypes { key"
        " ... on CompositeConfigType { fields { name } } } } } }",
        {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": name,
                "pipelineName": "release_gallery",
            }
        },
    )["runConfigSchemaOrError"]["allConfigTypes"]
    field_sets = [{f["name"] for f in t.get("fields") or []} for t in schema]
    assert {"approved_by", "note", "acknowledge_privacy_findings"} in field_sets


def test_dropped_photos_show_up_in_the_ui_and_become_a_released_gallery(dagster_dev):
    from dagster_graphql import DagsterGraphQLClient

    root, port, log = dagster_dev
    folder = root / "pix-jobs" / JOB / "final_input"
    for i in range(5):
        write_settled(folder / f"IMG_{i:04d}.jpg", jpeg_bytes(photo((2400, 1600), seed=i)))

    def processed() -> bool:
        rows = registry_rows(root, "select status from images")
        gallery = root / "pix-jobs" / JOB / "gallery" / "images"
        return (
            len(rows) == 5
            and all(r[0] == "processed" for r in rows)
            and (gallery.is_dir() and len(list(gallery.iterdir())) == 5)
        )

    wait_for(processed, 240, "5 processed photos in the draft gallery", log)
    job = registry_rows(root, "select gallery_status, gallery_visibility from jobs")
    assert job == [("draft_ready", "internal")]
    assert (root / "pix-jobs" / JOB / "gallery" / "expose.json").is_file()
    assert len(list((root / "pix-jobs" / JOB / "pipeline" / "thumbs").iterdir())) == 10
    check_the_ui(port, log)

    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    run_id = client.submit_job_execution(
        "release_gallery",
        run_config={"ops": {"release_job_gallery": {"config": {"approved_by": "Daniel"}}}},
        tags={"dagster/partition": JOB},
    )

    def finished() -> str | None:
        status = client.get_run_status(run_id).value
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    assert wait_for(finished, 180, "the release run", log) == "SUCCESS"
    assert registry_rows(root, "select gallery_visibility from jobs") == [("customer",)]

    # The release queued its notification; the running outbox sensor delivers it (log).
    def delivered() -> bool:
        rows = registry_rows(root, "select kind, status from notifications order by id")
        return ("gallery.released", "sent") in rows and all(r[1] == "sent" for r in rows)

    wait_for(delivered, 60, "the outbox sensor delivering gallery.released", log)
