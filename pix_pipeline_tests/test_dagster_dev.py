"""The README's promise, end to end: `dagster dev` with the sensor on, photos dropped into a
job folder become a draft gallery, and a release launched through the webserver publishes it."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import dagster_dev as run_dagster_dev
from pix_pipeline_tests.processes import graphql, wait_for

JOB = "DEMO1"

pytestmark = pytest.mark.e2e


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[Path, int, Path]]:
    values = {
        "PIX_SENSOR_INTERVAL_SECONDS": "3",
        "PIX_NOTIFY_INTERVAL_SECONDS": "3",
        "PIX_SETTLE_SECONDS": "1",
    }
    with run_dagster_dev(tmp_path, values) as started:
        yield started


def registry_rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    db = root / "pix_registry.sqlite3"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


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
          ... on TextMetadataEntry { text }
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
    # The local instance switches off the newsletter pop-up (nux) a first visit would show.
    assert graphql(port, "{ shouldShowNux }")["shouldShowNux"] is False

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
    # What the UI shows for the gallery: its latest materialization, recorded by the release.
    latest = graphql(port, MATERIALIZATION, {"asset": ["gallery"], "partition": JOB})
    [shown] = latest["assetOrError"]["assetMaterializations"]
    entries = {e["label"]: e for e in shown["metadataEntries"]}
    assert entries["gallery_visibility"]["text"] == "customer"

    # The release queued its notification; the running outbox sensor delivers it (log).
    def delivered() -> bool:
        rows = registry_rows(root, "select kind, status from notifications order by id")
        return ("gallery.released", "sent") in rows and all(r[1] == "sent" for r in rows)

    wait_for(delivered, 60, "the outbox sensor delivering gallery.released", log)
