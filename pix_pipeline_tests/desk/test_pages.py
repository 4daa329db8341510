"""The review desk's pages through an in-process client: HTML, registry rows, gallery files."""

import base64
import html
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pix_pipeline.desk import words
from pix_pipeline.domain.release import REDACTIONS_TO_CONFIRM, Refusal, release_gallery
from pix_pipeline.domain.review import release_check
from pix_pipeline.notify.events import DRAFT_READY_MAX_DELAY
from pix_pipeline.notify.outbox import deliver_due
from pix_pipeline.registry.repository import JobChanges, NewImage
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.desk.rig import JOB, Rig, desk_client, marked
from pix_pipeline_tests.images import write_settled
from pix_pipeline_tests.processes import free_port

TEMPLATES = Path(__file__).resolve().parents[2] / "pix_pipeline" / "desk" / "templates"


class Elements(HTMLParser):
    """Start tags with their attributes, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def article(page: str, filename: str) -> str:
    found = re.search(
        rf'<article class="photo[^"]*"[^>]*data-filename="{re.escape(filename)}">(.*?)</article>',
        page,
        re.S,
    )
    assert found, f"no photo card for {filename}"
    return found.group(1)


def test_the_jobs_list_shows_counts_findings_errors_and_gallery_state(rig: Rig):
    rig.login()
    page = rig.client.get("/")
    assert page.status_code == 200
    row = re.search(rf'<tr class="job[^"]*" data-job="{JOB}">(.*?)</tr>', page.text, re.S)
    assert row, page.text
    cells = row.group(1)
    assert 'data-unchecked="2"' in cells  # face.jpg and door.jpg
    assert 'data-errors="1"' in cells  # broken.jpg
    assert "3 fertig" in cells
    assert words.GALLERY_STATUS["draft_ready"] in cells
    assert words.VISIBILITY["internal"] in cells
    assert words.T.never_released in cells
    assert words.T.needs_attention in cells


def add_jobs(rig: Rig, count: int, *, failing_every: int) -> None:
    """Jobs registered directly in the registry, every `failing_every`-th with a failed file."""
    for n in range(count):
        failed = n % failing_every == 0
        rig.runtime.registry.apply_changes(
            JobChanges(
                job_id=f"BULK{n:04d}",
                new=[
                    NewImage(
                        filename="a.jpg",
                        storage_path=f"pix-jobs/BULK{n:04d}/final_input/a.jpg",
                        source="editor",
                        status="error" if failed else "pending_processing",
                        size_bytes=10,
                        mtime_ns=1,
                        content_hash=None,
                        error_message="final_input/a.jpg: empty file (0 bytes)" if failed else None,
                        error_stage="validation" if failed else None,
                    )
                ],
            )
        )


def test_the_jobs_list_pages_and_filters_jobs_that_need_attention(rig: Rig):
    add_jobs(rig, 120, failing_every=10)
    rig.login()
    first = rig.client.get("/")
    jobs_on = re.findall(r'data-job="([^"]+)"', first.text)
    assert len(jobs_on) == 50
    assert jobs_on[0] == "BULK0119"  # newest activity first
    assert words.T.page_of.format(page=1, pages=3, jobs="121 Aufträge") in first.text
    last = rig.client.get("/?page=3")
    assert len(re.findall(r'data-job="([^"]+)"', last.text)) == 21
    assert 'rel="next"' not in last.text and 'rel="prev"' in last.text
    attention = rig.client.get("/?filter=attention")
    flagged = re.findall(r'data-job="([^"]+)"', attention.text)
    # Every tenth bulk job has a failed file; DESK1 has one too, and unchecked findings.
    assert sorted(flagged) == sorted([f"BULK{n:04d}" for n in range(0, 120, 10)] + [JOB])


def test_failed_files_come_first_with_their_reason_and_what_to_do(rig: Rig):
    rig.login()
    page = rig.client.get(f"/jobs/{JOB}").text
    failed = page.index('id="failed"')
    assert failed < page.index('data-filename="clean.jpg"')
    reason, action = words.ERROR[words.ErrorKind.DAMAGED]
    section = page[failed : page.index("</section>", failed)]
    assert "broken.jpg" in section
    assert html.escape(reason) in section and html.escape(action) in section


def test_each_finding_is_a_box_over_its_preview(rig: Rig):
    rig.login()
    page = rig.client.get(f"/jobs/{JOB}").text
    rows = rig.rows()
    face = article(page, "face.jpg")
    assert f'src="/photos/{rows["face.jpg"].image_id}/400" loading="lazy"' in face
    boxes = [a for t, a in parse(face).tags if t == "span" and "data-box" in a]
    assert [(b["data-category"], b["data-box"]) for b in boxes] == [
        ("faces", "0.4000,0.1000,0.5000,0.2500")
    ]
    assert "left:40.00%;top:10.00%;width:10.00%;height:15.00%" in boxes[0]["style"]
    assert "Gesicht 97 %" in face
    door = article(page, "door.jpg")
    [number] = [a for t, a in parse(door).tags if t == "span" and "data-box" in a]
    assert (number["data-category"], number["data-box"]) == ("text", "0.6000,0.5000,0.8000,0.6000")
    assert "Hausnummer „17b“ 93 %" in door
    # The portrait photo keeps its upright size in the preview's attributes.
    assert 'width="300" height="400"' in door
    clean = article(page, "clean.jpg")
    assert "data-box" not in clean and words.T.no_findings in clean


def test_a_preview_opens_large_with_the_same_boxes(rig: Rig):
    rig.login()
    image_id = rig.rows()["door.jpg"].image_id
    page = rig.client.get(f"/jobs/{JOB}").text
    assert f'href="/jobs/{JOB}/photos/{image_id}" data-large="/photos/{image_id}/1600"' in page
    large = rig.client.get(f"/jobs/{JOB}/photos/{image_id}")
    assert large.status_code == 200
    assert f'src="/photos/{image_id}/1600"' in large.text
    assert 'data-box="0.6000,0.5000,0.8000,0.6000"' in large.text
    image = rig.client.get(f"/photos/{image_id}/1600")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:3] == b"\xff\xd8\xff"


def test_a_hidden_photo_leaves_the_gallery_and_the_customer_expose(rig: Rig):
    rig.login()
    image_id = rig.rows()["face.jpg"].image_id
    gallery = rig.harness.job_path(JOB, "gallery/images")
    assert (gallery / "face.jpg").is_file()
    done = rig.post(f"/jobs/{JOB}/photos/{image_id}/hidden", {"hidden": "1"})
    assert done.status_code == 303 and done.headers["location"].endswith(f"#photo-{image_id}")
    row = rig.rows()["face.jpg"]
    assert row.status == "processed" and row.hidden_by == "daniel" and row.hidden_at is not None
    assert sorted(p.name for p in gallery.iterdir()) == ["clean.jpg", "door.jpg"]
    expose = rig.harness.read_json(JOB, "gallery/expose.json")
    assert "face.jpg" not in json.dumps(expose)
    assert rig.harness.job_path(JOB, "pipeline/thumbs").joinpath(f"{image_id}_400.jpg").is_file()
    page = rig.client.get(f"/jobs/{JOB}").text
    card = article(page, "face.jpg")
    assert words.T.show in card and "daniel" in card
    # Its face no longer needs checking: only door.jpg is left.
    assert release_check(rig.runtime, JOB, approved_by="x", acknowledged=False).findings == {
        "door.jpg": ["text"]
    }
    # A pipeline run keeps it out as well.
    assert rig.harness.run(JOB).success
    assert sorted(p.name for p in gallery.iterdir()) == ["clean.jpg", "door.jpg"]
    rig.post(f"/jobs/{JOB}/photos/{image_id}/hidden", {"hidden": "0"})
    assert rig.rows()["face.jpg"].hidden_at is None
    assert (gallery / "face.jpg").is_file()
    assert "face.jpg" in json.dumps(rig.harness.read_json(JOB, "gallery/expose.json"))


def test_checked_findings_stop_blocking_until_the_photo_changes(rig: Rig):
    rig.login()
    rows = rig.rows()
    for name in ("face.jpg", "door.jpg"):
        done = rig.post(f"/jobs/{JOB}/photos/{rows[name].image_id}/checked", {"checked": "1"})
        assert done.status_code == 303
    row = rig.rows()["face.jpg"]
    assert row.checked_hash == row.content_hash and row.checked_by == "daniel"
    verdict = release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False)
    assert verdict.allowed and verdict.photos == 3
    card = article(rig.client.get(f"/jobs/{JOB}").text, "face.jpg")
    assert words.T.unmark_checked in card
    # The Dagster job asks the same question: released without the acknowledgement.
    assert rig.harness.release(JOB, approved_by="Daniel").success
    # A new version of the photo is not checked any more.
    write_settled(rig.harness.final_input(JOB) / "face.jpg", marked((255, 0, 0), 9))
    rig.harness.tick()
    assert rig.harness.run(JOB).success
    again = release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False)
    # The face was made unrecognisable by the default policy, for the old file: the new one
    # waits until Daniel confirms that redaction.
    assert again.refusal is Refusal.UNCHECKED_FINDINGS
    assert again.findings == {"face.jpg": [REDACTIONS_TO_CONFIRM]}


def test_a_release_with_unchecked_findings_is_refused_on_the_page(rig: Rig):
    rig.login()
    refused = rig.post(f"/jobs/{JOB}/release", {"approved_by": "Daniel", "note": "ok"})
    assert refused.status_code == 409
    assert 'id="refused"' in refused.text
    # The face is made unrecognisable by the default policy (PIX_REDACT_AUTO): handled. The
    # house number is not, and holds the release.
    assert html.escape("1 Foto mit ungeprüften Datenschutz-Funden: door.jpg.") in refused.text
    assert "Traceback" not in refused.text
    job = rig.runtime.registry.get_job(JOB)
    assert job is not None and job.gallery_visibility == "internal" and job.release_count == 0


@pytest.mark.parametrize("privacy_provider", ["pix_pipeline_tests.providers:FaceModelMissing"])
def test_photos_whose_face_check_could_not_run_say_so_and_wait_for_daniel(rig: Rig):
    rig.login()
    page = rig.client.get(f"/jobs/{JOB}").text
    said = html.escape(words.CATEGORY["faces:not_checked"])
    card = article(page, "clean.jpg")
    assert said in card and words.T.mark_checked in card
    assert words.CATEGORY["logos"] not in card  # no logo model: nothing to say
    refused = rig.post(f"/jobs/{JOB}/release", {"approved_by": "Daniel", "note": ""})
    assert refused.status_code == 409
    assert html.escape("3 Fotos mit ungeprüften Datenschutz-Funden") in refused.text
    row = re.search(
        rf'<tr class="job[^"]*" data-job="{JOB}">(.*?)</tr>', rig.client.get("/").text, re.S
    )
    assert row and 'data-unchecked="3"' in row.group(1)


def test_a_release_while_dagster_is_down_says_so_in_plain_words(rig: Rig):
    rig.login()
    down = rig.post(
        f"/jobs/{JOB}/release",
        {"approved_by": "Daniel", "note": "", "acknowledge_privacy_findings": "1"},
    )
    assert down.status_code == 502
    assert html.escape("Dagster ist unter") in down.text
    assert rig.runtime.registry.get_job(JOB).gallery_visibility == "internal"  # type: ignore[union-attr]


def test_the_form_shows_what_the_customer_gets(rig: Rig):
    rig.login()
    page = rig.client.get(f"/jobs/{JOB}").text
    assert words.T.customer_gets.format(photos="3 Fotos") in page
    assert words.T.release_button in page and 'name="acknowledge_privacy_findings"' in page
    assert rig.harness.release(JOB, approved_by="Daniel", acknowledge_privacy_findings=True).success
    image_id = rig.rows()["clean.jpg"].image_id
    rig.post(f"/jobs/{JOB}/photos/{image_id}/hidden", {"hidden": "1"})
    page = rig.client.get(f"/jobs/{JOB}").text
    assert words.T.customer_gets.format(photos="2 Fotos") in page
    assert words.T.changes_title in page
    assert html.escape("clean.jpg: fällt weg (ausgeblendet)") in page
    assert words.T.revoke_button in page
    job = rig.runtime.registry.get_job(JOB)
    assert job is not None and job.gallery_status == "update_pending"
    # Released: the hidden photo stays with the customer until the next release applies it.
    assert (rig.harness.job_path(JOB, "gallery/images") / "clean.jpg").is_file()


RAW_CODES = (
    "pending_processing",
    "processed",
    "draft_ready",
    "update_pending",
    "internal",
    "customer",
    "licence_plates",
    "faces",
)


def test_pages_never_show_a_raw_status_code(rig: Rig):
    rig.login()
    for path in ("/", f"/jobs/{JOB}", "/?filter=attention"):
        text = " ".join(parse(rig.client.get(path).text).text)
        for code in RAW_CODES:
            assert not re.search(rf"\b{code}\b", text), (path, code)


def test_templates_take_every_word_from_the_catalogue():
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", source, flags=re.S)
        text = " ".join(parse(source).text)
        assert not re.search(r"[A-Za-zÄÖÜäöüß]{2,}", text), (template.name, text)


@pytest.mark.parametrize("path", ["/jobs/NOPE", "/jobs/..%2F..", f"/jobs/{JOB}/photos/x"])
def test_unknown_jobs_and_photos_are_not_found(rig: Rig, path: str):
    rig.login()
    assert rig.client.get(path).status_code == 404


def test_the_desk_never_imports_dagster():
    import ast

    desk = TEMPLATES.parent
    for module in desk.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                # dagster_graphql too: its client loads all of Dagster.
                assert not top.startswith("dagster"), f"{module.name} imports {name}"
                assert not name.startswith("pix_pipeline.defs"), f"{module.name} imports {name}"


def test_the_desk_starts_without_loading_dagster():
    # The desk speaks GraphQL over HTTP itself: not even a release loads Dagster.
    probe = "import sys, pix_pipeline.desk.__main__; print('dagster' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"


def test_a_notification_that_gave_up_shows_and_is_sent_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    # Nothing listens on the receiver's port, and one refused attempt is the limit.
    monkeypatch.setenv("PIX_NOTIFIER", "webhook")
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook")
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_SECRET", "whsec_" + base64.b64encode(b"k" * 32).decode())
    monkeypatch.setenv("PIX_NOTIFY_MAX_ATTEMPTS", "1")
    sender = build_runtime(load_settings())
    try:
        # Past the draft event's quiet wait, without waiting for it.
        deliver_due(sender, clock=lambda: datetime.now(UTC) + DRAFT_READY_MAX_DELAY)
    finally:
        sender.close()
    [draft] = rig.runtime.registry.notifications(JOB)
    assert (draft.kind, draft.status) == ("gallery.draft_ready", "failed")

    rig.login()
    listing = rig.client.get("/").text
    assert words.T.notifications_failed_title in listing
    assert f'href="/jobs/{JOB}#notifications"' in listing
    page = rig.client.get(f"/jobs/{JOB}").text
    assert 'data-kind="gallery.draft_ready" data-status="failed"' in page
    assert words.NOTIFICATION_STATUS["failed"] in page
    assert f'action="/jobs/{JOB}/notifications/{draft.id}/retry"' in page

    # Only the job's own failed notification, only with the page's token.
    assert rig.post(f"/jobs/OTHER/notifications/{draft.id}/retry", {}).status_code == 404
    no_token = rig.client.post(
        f"/jobs/{JOB}/notifications/{draft.id}/retry", follow_redirects=False
    )
    assert no_token.status_code == 403
    assert rig.runtime.registry.notifications(JOB)[0].status == "failed"
    again = rig.post(f"/jobs/{JOB}/notifications/{draft.id}/retry", {})
    assert again.status_code == 303 and again.headers["location"].endswith("#notifications")
    [retried] = rig.runtime.registry.notifications(JOB)
    assert (retried.status, retried.attempts, retried.webhook_id) == (
        "pending",
        0,
        draft.webhook_id,
    )
    assert words.T.notifications_failed_title not in rig.client.get("/").text
    # A pending one is not "retried" a second time.
    assert rig.post(f"/jobs/{JOB}/notifications/{draft.id}/retry", {}).status_code == 404


def test_a_released_gallery_is_not_called_a_draft(rig: Rig):
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    rig.login()
    for path in ("/", f"/jobs/{JOB}"):
        page = rig.client.get(path).text
        assert words.RELEASED_CURRENT in page and words.VISIBILITY["customer"] in page
        assert words.GALLERY_STATUS["draft_ready"] not in page


def test_links_to_dagster_point_at_its_public_address_and_fall_back_to_the_internal_one(
    rig: Rig,
):
    run_id = "0123abcd-0000-4000-8000-00000000cafe"
    public = replace(rig.settings, dagster_public_url="https://dagster.example.com")
    for settings, expected in ((public, "https://dagster.example.com"), (rig.settings, None)):
        client = desk_client(settings, rig.runtime, rig.throttle)
        rig.login(client)
        base = expected or rig.settings.dagster_url
        jobs_page = client.get("/").text
        assert f'href="{base}" rel="noopener">{words.T.dagster_ui}<' in jobs_page
        run_page = client.get(f"/jobs/{JOB}/runs/{run_id}").text
        assert f'href="{base}/runs/{run_id}" rel="noopener">{words.T.run_in_dagster}<' in run_page
        if expected:
            # The internal address is for the desk's own GraphQL calls only: no link shows it.
            assert f'href="{rig.settings.dagster_url}' not in jobs_page + run_page


def test_without_a_semantics_provider_an_empty_field_says_dash_with_its_control(rig: Rig):
    rig.login()
    page = rig.client.get(f"/jobs/{JOB}").text
    assert words.F.pending not in page
    assert page.count(f'<option value="">{words.F.not_set}</option>') >= 6  # 3 photos x 2
    for name in ("room_type", "view_type", "caption_short", "caption_long"):
        assert page.count(f'name="{name}"') >= 3, name
    assert ">Außenansicht vorne<" in page and ">Küche<" in page and ">Innenansicht<" in page
    assert 'maxlength="80"' in page and "0/80" in page


def test_a_revoke_is_confirmed_and_a_logged_notification_is_not_called_delivered(rig: Rig):
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    rig.harness.outbox_tick()
    rig.login()
    page = rig.client.get(f"/jobs/{JOB}").text
    assert words.SENT_LOGGED in page and words.NOTIFICATION_STATUS["sent"] + "<" not in page
    assert "1 Versuch<" in page or "1 Versuch " in page
    assert html.escape(words.T.revoke_logged) in page
    assert 'name="confirm" value="1" required' in page
    unconfirmed = rig.post(f"/jobs/{JOB}/revoke", {"revoked_by": "Daniel"})
    assert unconfirmed.status_code == 409
    assert html.escape(words.T.revoke_unconfirmed) in unconfirmed.text
    assert words.plural(1, "Auftrag", "Aufträge") == "1 Auftrag"
