"""The review desk in a real Chromium on the real stack: `dagster dev` with its sensor and the
local privacy checks, and `python -m pix_pipeline.desk` talking to it over GraphQL.

Daniel's whole path: log in, open a job with a face, a house number, a clean photo and a
broken file, see each finding boxed where it is, hide a photo, acknowledge the findings,
click "Galerie freigeben", and the release reaches the registry, Dagster and gallery/.
"""

import io
import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pix_pipeline.domain.models import ImageMeta
from pix_pipeline.registry.repository import Registry
from pix_pipeline_tests.images import (
    ASTRONAUT_AREA,
    NUMBER_PLAQUE,
    SCENE_SIZE,
    astronaut_photo,
    facade,
    jpeg_bytes,
    room,
    write_settled,
)
from pix_pipeline_tests.processes import (
    dagster_dev,
    free_port,
    graphql,
    pix_env,
    start,
    stop_group,
    wait_for,
)

pytestmark = pytest.mark.e2e

JOB = "HAUS17"
USER, PASSWORD = "daniel", "e2e-only-password-17"
APPROVER = "Daniel Brandt"
FACE, HOUSE, CLEAN, BROKEN = "portrait.jpg", "facade.jpg", "living_room.jpg", "broken.jpg"
# Where the job page's screenshot goes when PIX_SCREENSHOT_DIR names a folder (docs/images/).
SCREENSHOT_NAME = "desk_job_e2e.png"
SCREENSHOT_LIMIT = 300 * 1024


@dataclass
class Stack:
    root: Path
    dagster_port: int
    desk_url: str
    desk: "subprocess.Popen[bytes]"
    logs: tuple[Path, ...]

    def job_path(self, relative: str) -> Path:
        return self.root / "pix-jobs" / JOB / relative

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the registry directly, as the web backend does; [] before its tables exist."""
        db = self.root / "pix_registry.sqlite3"
        if not db.exists():
            return []
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def desk_is_up(url: str, desk: "subprocess.Popen[bytes]", log: Path) -> bool:
    if desk.poll() is not None:
        pytest.fail(f"the desk exited ({desk.returncode}):\n{log.read_text(encoding='utf-8')}")
    try:
        with urllib.request.urlopen(f"{url}/login", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def stack(tmp_path: Path, chromium: Any) -> Iterator[Stack]:
    """The job's four files in final_input/, dagster dev and the desk running on free ports."""
    # The local privacy checks (face model and OCR) are the default; a real run uses them.
    values = {"PIX_SENSOR_INTERVAL_SECONDS": "3", "PIX_SETTLE_SECONDS": "1"}
    with dagster_dev(tmp_path, values) as (root, dagster_port, dagster_log):
        folder = root / "pix-jobs" / JOB / "final_input"
        write_settled(folder / FACE, jpeg_bytes(astronaut_photo()))
        write_settled(folder / HOUSE, jpeg_bytes(facade()))
        write_settled(folder / CLEAN, jpeg_bytes(room()))
        write_settled(folder / BROKEN, b"\xff\xd8\xff this upload broke off")
        desk_port, desk_log = free_port(), tmp_path / "desk.log"
        desk_values = {
            **values,
            "PIX_DESK_HOST": "127.0.0.1",
            "PIX_DESK_PORT": str(desk_port),
            "PIX_DESK_USER": USER,
            "PIX_DESK_PASSWORD": PASSWORD,
            "PIX_DAGSTER_URL": f"http://127.0.0.1:{dagster_port}",
        }
        desk = start(
            [sys.executable, "-m", "pix_pipeline.desk"], pix_env(root, desk_values), desk_log
        )
        try:
            url = f"http://127.0.0.1:{desk_port}"
            yield Stack(root, dagster_port, url, desk, (dagster_log, desk_log))
        finally:
            stop_group(desk)


def stored_boxes(root: Path) -> dict[str, list[tuple[str, tuple[float, float, float, float]]]]:
    """filename -> (category, box) of every privacy finding in the registry's settled meta."""
    registry = Registry.from_url(f"sqlite:///{root / 'pix_registry.sqlite3'}")
    try:
        rows = registry.images_of_job(JOB)
    finally:
        registry.dispose()
    found: dict[str, list[tuple[str, tuple[float, float, float, float]]]] = {}
    for row in rows:
        meta = ImageMeta.model_validate(row.meta) if row.meta else None
        if meta is None or meta.privacy is None:
            continue
        for category in meta.privacy.detected():
            for item in meta.privacy.category(category).items:
                if item.box is not None:
                    box = (item.box.x0, item.box.y0, item.box.x1, item.box.y1)
                    found.setdefault(row.filename, []).append((category, box))
    return found


def inside(box: tuple[float, float, float, float], area: tuple[int, int, int, int]) -> bool:
    """Whether a 0–1 box of a SCENE_SIZE photo lies within `area` (pixels), give or take 2 %."""
    w, h = SCENE_SIZE
    x0, y0, x1, y1 = area
    return (
        box[0] >= x0 / w - 0.02
        and box[1] >= y0 / h - 0.02
        and box[2] <= x1 / w + 0.02
        and box[3] <= y1 / h + 0.02
    )


def boxes_over(page: Any, container: Any, what: str) -> list[tuple[str, tuple[float, ...], str]]:
    """(category, data-box, caption) of each box drawn over the photo in `container`, after
    checking that its rectangle on screen is its data-box scaled onto the photo's rectangle."""
    image = container.locator("img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    shown = image.bounding_box()
    assert shown is not None and shown["width"] > 100, f"{what}: no photo on screen"
    boxes = []
    for element in container.locator("[data-category][data-box]").all():
        x0, y0, x1, y1 = (float(v) for v in (element.get_attribute("data-box") or "").split(","))
        rect = element.bounding_box()
        assert rect is not None, f"{what}: a box is not displayed"
        expected = {
            "x": shown["x"] + x0 * shown["width"],
            "y": shown["y"] + y0 * shown["height"],
            "width": (x1 - x0) * shown["width"],
            "height": (y1 - y0) * shown["height"],
        }
        for side, value in expected.items():
            assert abs(rect[side] - value) <= 1.5, (what, side, rect, expected)
        category = element.get_attribute("data-category") or ""
        boxes.append((category, (x0, y0, x1, y1), element.inner_text()))
    return boxes


def card(page: Any, filename: str) -> Any:
    return page.locator(f"article.photo[data-filename='{filename}']")


def save_screenshot(page: Any, tmp_path: Path) -> Path:
    """The job page as Daniel sees it, as a PNG under SCREENSHOT_LIMIT bytes."""
    raw = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    # A 64-colour palette keeps the photos recognisable and the file small.
    small = raw.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    target = Path(os.environ.get("PIX_SCREENSHOT_DIR") or tmp_path) / SCREENSHOT_NAME
    small.save(target, format="PNG", optimize=True)
    return target


def release_runs(port: int) -> list[dict[str, Any]]:
    found = graphql(
        port,
        """query ($job: String!) {
          runsOrError(filter: {pipelineName: "release_gallery",
                               tags: [{key: "dagster/partition", value: $job}]}) {
            ... on Runs { results { runId status tags { key value } } }
          }
        }""",
        {"job": JOB},
    )
    return list(found["runsOrError"]["results"])


def gallery_visibility_shown(port: int) -> str:
    """gallery_visibility in the latest materialization of the job's gallery, as the UI shows."""
    found = graphql(
        port,
        """query ($job: String!) {
          assetOrError(assetKey: {path: ["gallery"]}) {
            ... on Asset { assetMaterializations(partitions: [$job], limit: 1) {
              runId metadataEntries { label ... on TextMetadataEntry { text } } } }
          }
        }""",
        {"job": JOB},
    )
    [latest] = found["assetOrError"]["assetMaterializations"]
    return str({e["label"]: e.get("text") for e in latest["metadataEntries"]}["gallery_visibility"])


def failed_photo_check(port: int) -> dict[str, Any]:
    found = graphql(
        port,
        """query ($job: String!) {
          assetCheckExecutions(assetKey: {path: ["image_meta"]}, checkName: "no_image_failed",
                               partition: $job, limit: 1) {
            evaluation { success severity description }
          }
        }""",
        {"job": JOB},
    )
    [execution] = found["assetCheckExecutions"]
    return dict(execution["evaluation"])


def run_status(page: Any) -> str | None:
    """The status the desk's run page shows once the run ended; None while it follows it."""
    try:
        status = page.locator("p.run-status").get_attribute("data-status", timeout=1000)
    except Exception:  # the page is reloading itself to follow the run
        return None
    return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None


def test_daniel_reviews_hides_and_releases_a_job_in_the_browser(
    stack: Stack, chromium: Any, tmp_path: Path
):
    statuses = "select filename, status from images"
    wait_for(
        lambda: (
            sorted(stack.rows(statuses))
            == sorted(
                [(FACE, "processed"), (HOUSE, "processed"), (CLEAN, "processed"), (BROKEN, "error")]
            )
            and stack.rows("select gallery_status from jobs") == [("draft_ready",)]
        ),
        300,
        "the job's photos to be processed into a draft gallery",
        *stack.logs,
    )
    stored = stored_boxes(stack.root)
    # The local privacy checks found the face and the house number, and nothing on the clean
    # photo: the boxes the page must draw.
    assert {c for c, _ in stored[FACE]} == {"faces"}
    assert [c for c, _ in stored[HOUSE]] == ["text"]
    assert CLEAN not in stored
    assert all(inside(box, ASTRONAUT_AREA) for _, box in stored[FACE])
    assert inside(stored[HOUSE][0][1], NUMBER_PLAQUE)
    wait_for(
        lambda: desk_is_up(stack.desk_url, stack.desk, stack.logs[1]),
        60,
        "the desk to answer",
        *stack.logs,
    )

    page = chromium.new_page()
    page.goto(f"{stack.desk_url}/jobs/{JOB}")
    # Not logged in: the login form, then back to the job.
    assert page.locator("input[name=password]").is_visible()
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{stack.desk_url}/jobs/{JOB}")

    # The failed file comes first, with its reason in plain words.
    failed = page.locator("li.failed-file")
    assert failed.count() == 1 and failed.get_attribute("data-filename") == BROKEN
    assert failed.inner_text().startswith(BROKEN)
    photo_order = page.locator("[data-filename]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.filename)"
    )
    assert photo_order[0] == BROKEN and set(photo_order[1:]) == {FACE, HOUSE, CLEAN}

    # Each box sits over its finding: on screen where the stored box puts it on the preview.
    for filename in (FACE, HOUSE, CLEAN):
        shown = boxes_over(page, card(page, filename), filename)
        expected = stored.get(filename, [])
        assert len(shown) == len(expected), (filename, shown, expected)
        for (category, box), (shown_category, shown_box) in zip(
            sorted(expected), sorted((c, b) for c, b, _ in shown), strict=True
        ):
            assert shown_category == category
            assert shown_box == pytest.approx(box, abs=1e-3)
    [(_, number_box, caption)] = boxes_over(page, card(page, HOUSE), HOUSE)
    assert caption.split()[:2] == ["Hausnummer", "„17“"]
    # The page as Daniel sees it, every preview loaded, before anything is clicked.
    page.evaluate("window.scrollTo(0, 0)")
    screenshot = save_screenshot(page, tmp_path)
    assert 0 < screenshot.stat().st_size < SCREENSHOT_LIMIT

    # A click opens the 1600 px preview with the same box over the number; Escape closes it.
    card(page, HOUSE).locator("a.preview").click()
    large = page.locator(".overlay figure.large")
    [(_, large_box, _)] = boxes_over(page, large, f"{HOUSE}, large")
    assert large_box == number_box
    assert large.locator("img").evaluate("img => img.naturalWidth") == 1600
    page.keyboard.press("Escape")
    assert page.locator(".overlay").count() == 0

    # Hide the portrait, acknowledge the house number, release.
    card(page, FACE).locator("button[name=action][value=hide]").click()
    page.wait_for_load_state()
    assert "is-hidden" in (card(page, FACE).get_attribute("class") or "")
    [(hidden_by,)] = stack.rows(f"select hidden_by from images where filename = '{FACE}'")
    assert hidden_by == USER

    form = page.locator("form.release-form")
    form.locator("input[name=approved_by]").fill(APPROVER)
    form.locator("textarea[name=note]").fill("Porträt ausgeblendet")
    form.locator("input[name=acknowledge_privacy_findings]").check()
    form.locator("button[type=submit]").click()
    assert wait_for(lambda: run_status(page), 240, "the release run", *stack.logs) == "SUCCESS"
    assert page.locator(".visibility").get_attribute("data-visibility") == "customer"

    # The registry: the portrait hidden (and still processed), the gallery the customer's.
    assert stack.rows(
        "select gallery_status, gallery_visibility, released_by, release_note from jobs"
    ) == [("draft_ready", "customer", APPROVER, "Porträt ausgeblendet")]
    [(status, hidden_at)] = stack.rows(
        f"select status, hidden_at from images where filename = '{FACE}'"
    )
    assert status == "processed" and hidden_at is not None
    # Dagster: one release_gallery run for the job, launched by the desk, succeeded.
    [run] = release_runs(stack.dagster_port)
    assert run["status"] == "SUCCESS"
    # ... and its UI tells the truth: the gallery is the customer's, and the broken file warns.
    assert gallery_visibility_shown(stack.dagster_port) == "customer"
    failed_check = failed_photo_check(stack.dagster_port)
    assert (failed_check["success"], failed_check["severity"]) == (False, "WARN")
    assert BROKEN in failed_check["description"]
    assert urllib.parse.urlsplit(page.url).path == f"/jobs/{JOB}/runs/{run['runId']}"
    # gallery/: the hidden portrait and the broken file are not there, and the customer's
    # expose.json names the shown photos, never the hidden one.
    gallery = sorted(p.name for p in stack.job_path("gallery/images").iterdir())
    assert gallery == sorted([HOUSE, CLEAN])
    expose_text = stack.job_path("gallery/expose.json").read_text(encoding="utf-8")
    json.loads(expose_text)
    assert FACE not in expose_text
    assert HOUSE in expose_text and CLEAN in expose_text
