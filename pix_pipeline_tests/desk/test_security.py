"""The desk's protection: login, throttled guessing, cookies, CSRF tokens, the image route,
its start-up refusal and what reaches its log. Each point of the issue has a test here."""

import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pix_pipeline.desk.auth import LoginThrottle
from pix_pipeline.settings import VARIABLES
from pix_pipeline_tests.desk.rig import JOB, PASSWORD, USER, Rig, csrf, desk_client
from pix_pipeline_tests.processes import free_port, stop_group

PROJECT = Path(__file__).resolve().parents[2]


def test_every_page_and_image_needs_the_login(rig: Rig):
    image_id = rig.rows()["face.jpg"].image_id
    pages = ["/", f"/jobs/{JOB}", f"/jobs/{JOB}/photos/{image_id}", "/?filter=attention"]
    for path in pages:
        answer = rig.client.get(path, headers={"accept": "text/html"}, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")
        assert answer.headers["location"] != "/login?next=/" or path == "/"
        assert rig.client.get(path, follow_redirects=False).status_code == 401
    for path in (f"/photos/{image_id}/400", f"/photos/{image_id}/1600"):
        answer = rig.client.get(path, follow_redirects=False)
        assert answer.status_code == 401 and b"\xff\xd8" not in answer.content, path
    # A change needs it too, token or not.
    page = rig.client.get("/login")
    changed = rig.client.post(
        f"/jobs/{JOB}/photos/{image_id}/hidden",
        data={"hidden": "1", "csrftoken": csrf(page.text)},
        follow_redirects=False,
    )
    assert changed.status_code == 401
    assert rig.rows()["face.jpg"].hidden_at is None


def test_after_login_the_desk_returns_to_the_page_asked_for(rig: Rig):
    asked = rig.client.get(f"/jobs/{JOB}", headers={"accept": "text/html"}, follow_redirects=True)
    assert asked.url.path == "/login"
    done = rig.client.post(
        "/login",
        data={
            "user": USER,
            "password": PASSWORD,
            "csrftoken": csrf(asked.text),
            "next": f"/jobs/{JOB}",
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == f"/jobs/{JOB}"
    # Never to another site.
    other = rig.new_app()
    page = other.get("/login")
    away = other.post(
        "/login",
        data={
            "user": USER,
            "password": PASSWORD,
            "csrftoken": csrf(page.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert away.headers["location"] == "/"


def test_a_wrong_password_gets_nothing(rig: Rig):
    page = rig.client.get("/login")
    wrong = rig.client.post(
        "/login",
        data={"user": USER, "password": "guess", "csrftoken": csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert wrong.status_code == 401
    assert "pix_desk_session" not in wrong.headers.get("set-cookie", "")
    assert "Benutzer oder Passwort stimmt nicht" in wrong.text
    assert rig.client.get("/", follow_redirects=False).status_code == 401
    wrong_user = rig.client.post(
        "/login",
        data={"user": "admin", "password": PASSWORD, "csrftoken": csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert wrong_user.status_code == 401


def test_repeated_wrong_passwords_are_slowed_down_per_client(rig: Rig):
    now = [1000.0]
    throttle = LoginThrottle(free=3, clock=lambda: now[0])

    def attempt(client_host: str, password: str) -> int:
        client = desk_client(rig.settings, rig.runtime, throttle, client=(client_host, 50000))
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"user": USER, "password": password, "csrftoken": csrf(page.text)},
            follow_redirects=False,
        )
        return answer.status_code

    assert [attempt("10.0.0.1", "wrong") for _ in range(3)] == [401, 401, 401]
    assert attempt("10.0.0.1", "wrong") == 401  # the fourth locks the login for 1 s
    # Locked: even the right password is not looked at.
    assert attempt("10.0.0.1", PASSWORD) == 429
    # Another client is not affected.
    assert attempt("10.0.0.2", PASSWORD) == 303
    now[0] += 1.5
    assert attempt("10.0.0.1", "wrong") == 401  # now locked for 2 s
    now[0] += 1.5
    assert attempt("10.0.0.1", PASSWORD) == 429
    now[0] += 1.0
    assert attempt("10.0.0.1", PASSWORD) == 303
    # A success clears the count.
    assert throttle.wait_seconds("10.0.0.1") == 0
    assert attempt("10.0.0.1", "wrong") == 401


def test_a_locked_login_says_when_to_try_again_in_its_header_and_in_german(rig: Rig):
    now = [1000.0]
    throttle = LoginThrottle(free=0, clock=lambda: now[0])
    client = desk_client(rig.settings, rig.runtime, throttle, client=("10.0.0.9", 50000))

    def attempt(password: str) -> httpx.Response:
        page = client.get("/login")
        data = {"user": USER, "password": password, "csrftoken": csrf(page.text)}
        return client.post("/login", data=data, follow_redirects=False)

    assert attempt("wrong").status_code == 401  # locked for 1 s
    one = attempt(PASSWORD)
    assert (one.status_code, one.headers["retry-after"]) == (429, "1")
    assert "Bitte in 1\u00a0Sekunde erneut versuchen." in one.text
    now[0] += 0.4
    assert attempt(PASSWORD).headers["retry-after"] == "1"  # 0.6 s left: rounded up
    now[0] += 0.6
    assert attempt("wrong").status_code == 401  # locked for 2 s
    now[0] += 1
    assert attempt("wrong").status_code == 429  # not counted while locked
    now[0] += 1
    assert attempt("wrong").status_code == 401  # locked for 4 s
    now[0] += 0.5
    four = attempt(PASSWORD)
    assert (four.status_code, four.headers["retry-after"]) == (429, "4")
    assert "Bitte in 4\u00a0Sekunden erneut versuchen." in four.text
    now[0] += int(four.headers["retry-after"])  # waiting as told is enough
    assert attempt(PASSWORD).status_code == 303


def test_the_session_cookie_is_httponly_and_samesite(rig: Rig):
    page = rig.client.get("/login")
    done = rig.client.post(
        "/login",
        data={"user": USER, "password": PASSWORD, "csrftoken": csrf(page.text)},
        follow_redirects=False,
    )
    [session] = [
        c for c in done.headers.get_list("set-cookie") if c.startswith("pix_desk_session=")
    ]
    flags = session.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    [token] = [
        c for c in page.headers.get_list("set-cookie") if c.startswith("pix_desk_csrftoken=")
    ]
    assert "samesite=strict" in token.lower()
    assert done.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in done.headers["content-security-policy"]


def test_a_post_without_the_form_token_changes_nothing(rig: Rig):
    rig.login()
    image_id = rig.rows()["face.jpg"].image_id
    # What a form on another site can send along with the desk's cookies: no valid token.
    for data in ({"hidden": "1"}, {"hidden": "1", "csrftoken": "forged"}):
        answer = rig.client.post(
            f"/jobs/{JOB}/photos/{image_id}/hidden", data=data, follow_redirects=False
        )
        assert answer.status_code == 403
    checked = rig.client.post(
        f"/jobs/{JOB}/photos/{image_id}/checked", data={"checked": "1"}, follow_redirects=False
    )
    assert checked.status_code == 403
    release = rig.client.post(
        f"/jobs/{JOB}/release",
        data={"approved_by": "x", "acknowledge_privacy_findings": "1"},
        follow_redirects=False,
    )
    assert release.status_code == 403
    row = rig.rows()["face.jpg"]
    assert row.hidden_at is None and row.checked_hash is None
    # The token of another browser's session does not fit this one's cookie either.
    other = rig.new_app()
    foreign = csrf(other.get("/login").text)
    answer = rig.client.post(
        f"/jobs/{JOB}/photos/{image_id}/hidden",
        data={"hidden": "1", "csrftoken": foreign},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and rig.rows()["face.jpg"].hidden_at is None
    # With its own token the same post goes through.
    assert rig.post(f"/jobs/{JOB}/photos/{image_id}/hidden", {"hidden": "1"}).status_code == 303


def test_the_login_form_needs_its_token(rig: Rig):
    answer = rig.client.post(
        "/login", data={"user": USER, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert rig.client.get("/", follow_redirects=False).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/photos/..%2F..%2Ffinal_input%2Fface.jpg/400",
        "/photos/%2Fetc%2Fpasswd/400",
        f"/photos/..%2F..%2Fpix-jobs%2F{JOB}%2Ffinal_input%2Fface.jpg/400",
        "/photos/../../pix-jobs/DESK1/final_input/face.jpg",
        "/photos/00000000-0000-0000-0000-000000000000/400",
        "/photos/{face}/final_input",
        "/photos/{face}/400.jpg",
        "/photos/{face}/..%2F..%2F..%2Ffinal_input%2Fface.jpg",
        "/photos/{broken}/400",
    ],
)
def test_the_image_route_serves_only_registered_previews(rig: Rig, path: str):
    rig.login()
    rows = rig.rows()
    url = path.format(face=rows["face.jpg"].image_id, broken=rows["broken.jpg"].image_id)
    answer = rig.client.get(url, follow_redirects=False)
    assert answer.status_code == 404, url
    assert b"\xff\xd8" not in answer.content


def test_the_image_route_never_follows_a_key_stored_in_the_meta(rig: Rig):
    rig.login()
    row = rig.rows()["face.jpg"]
    assert rig.client.get(f"/photos/{row.image_id}/400").status_code == 200
    meta = dict(row.meta or {})
    meta["thumbnails"] = {
        **meta["thumbnails"],
        "small": f"pix-jobs/{JOB}/final_input/face.jpg",
        "large": "pix-jobs/OTHER/pipeline/thumbs/x_1600.jpg",
    }
    rig.runtime.registry.set_image_meta(row.image_id, meta)
    assert rig.client.get(f"/photos/{row.image_id}/400").status_code == 404
    assert rig.client.get(f"/photos/{row.image_id}/1600").status_code == 404


def desk_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True, exist_ok=True)
    env.update(PIX_LOCAL_ROOT=str(root), PIX_PRIVACY_PROVIDER="none", **values)
    return env


def test_the_desk_refuses_an_open_address_without_a_password(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "pix_pipeline.desk"],
        env=desk_env(tmp_path, PIX_DESK_HOST="0.0.0.0", PIX_DESK_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
    )
    assert done.returncode == 2
    assert "PIX_DESK_PASSWORD must be set" in done.stderr


def start_desk(tmp_path: Path, **values: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = tmp_path / "desk.log"
    env = desk_env(tmp_path, PIX_DESK_PORT=str(port), **values)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pix_pipeline.desk"],
            env=env,
            cwd=PROJECT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc, port, log
        except httpx.TransportError:
            time.sleep(0.3)
    stop_group(proc)
    pytest.fail(f"the desk did not start: {log.read_text(encoding='utf-8')}")


def log_in(port: int, password: str) -> httpx.Client:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    page = client.get("/login")
    client.post("/login", data={"user": USER, "password": password, "csrftoken": csrf(page.text)})
    return client


def test_passwords_and_cookies_never_reach_the_log(tmp_path: Path):
    secret = "Pa55-never-logged-4711"
    proc, port, log = start_desk(tmp_path, PIX_DESK_PASSWORD=secret, PIX_DESK_SECRET="k" * 40)
    try:
        wrong = log_in(port, "wrong-guess-0815")
        assert wrong.get("/", follow_redirects=False).status_code == 401
        client = log_in(port, secret)
        assert client.get("/").status_code == 200
        cookies = [v for v in client.cookies.values() if len(v) > 8]
        assert len(cookies) == 2  # the session and the form token
    finally:
        stop_group(proc)
    output = log.read_text(encoding="utf-8")
    assert "POST /login" in output and "failed login" in output  # the log does work
    for value in (secret, "wrong-guess-0815", *cookies):
        assert value not in output


def test_without_a_password_on_loopback_a_random_one_is_printed_once(tmp_path: Path):
    proc, port, log = start_desk(tmp_path)
    try:
        output = log.read_text(encoding="utf-8")
        found = re.findall(r"password '([^']+)'", output)
        assert len(found) == 1
        client = log_in(port, found[0])
        assert client.get("/").status_code == 200
        assert log_in(port, "daniel").get("/", follow_redirects=False).status_code == 401
    finally:
        stop_group(proc)
    assert log.read_text(encoding="utf-8").count(found[0]) == 1


def test_a_desk_that_trusts_the_proxy_takes_its_signed_in_user(rig: Rig):
    trusting = desk_client(
        dataclasses.replace(rig.settings, trust_proxy_user=True), rig.runtime, rig.throttle
    )
    signed_in = {"X-Pix-Proxy-User": "daniel", "accept": "text/html"}
    page = trusting.get(f"/jobs/{JOB}", headers=signed_in, follow_redirects=False)
    assert page.status_code == 200
    assert "daniel" in page.text
    # Without the proxy's header the desk's own login applies as before.
    fresh = desk_client(
        dataclasses.replace(rig.settings, trust_proxy_user=True), rig.runtime, rig.throttle
    )
    assert fresh.get(f"/jobs/{JOB}", follow_redirects=False).status_code == 401
    # A post (a cross-site form, say) never starts a session from the proxy's header alone.
    posted = fresh.post(
        f"/jobs/{JOB}/photos/{rig.rows()['face.jpg'].image_id}/hidden",
        data={"hidden": "1"},
        headers={"X-Pix-Proxy-User": "daniel"},
        follow_redirects=False,
    )
    assert posted.status_code in (401, 403)
    assert rig.rows()["face.jpg"].hidden_at is None
    # Another proxy user on the same browser gets a session of their own.
    other = trusting.get(
        f"/jobs/{JOB}", headers={**signed_in, "X-Pix-Proxy-User": "anna"}, follow_redirects=False
    )
    assert other.status_code == 200 and "anna" in other.text


def test_a_desk_that_does_not_trust_the_proxy_ignores_its_header(rig: Rig):
    answer = rig.client.get(
        f"/jobs/{JOB}", headers={"X-Pix-Proxy-User": USER}, follow_redirects=False
    )
    assert answer.status_code == 401


def test_the_login_throttle_remembers_a_bounded_number_of_clients():
    now = [1000.0]
    throttle = LoginThrottle(free=1, max_clients=3, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("10.0.0.1")  # locked for 2 s
    throttle.failed("10.0.0.2")  # within its free try: nothing to wait for
    throttle.failed("10.0.0.3")
    throttle.failed("10.0.0.4")  # full: the clients without a running lock go first
    assert throttle.wait_seconds("10.0.0.1") == 2.0
    assert len(throttle._clients) == 2
    throttle.failed("10.0.0.4")
    assert throttle.wait_seconds("10.0.0.4") == 1.0
    now[0] += 10  # every lock ran out
    for k in range(5, 9):
        throttle.failed(f"10.0.0.{k}")
    assert len(throttle._clients) <= 3
    assert throttle.wait_seconds("10.0.0.1") == 0


def test_health_answers_this_machine_without_login_with_ok_or_fail_per_check(rig: Rig):
    answer = rig.client.get("/health", follow_redirects=False)
    # Nothing listens at the rig's Dagster address: that check fails, with no details.
    assert answer.status_code == 503
    assert answer.text == "registry ok\nstorage ok\ndagster fail\n"
    assert "127.0.0.1" not in answer.text


def test_health_refuses_other_machines_and_requests_through_the_proxy(rig: Rig):
    remote = desk_client(rig.settings, rig.runtime, rig.throttle, client=("192.0.2.7", 40000))
    assert remote.get("/health", follow_redirects=False).status_code == 403
    for header in ("X-Forwarded-For", "X-Pix-Proxy-User"):
        proxied = rig.client.get("/health", headers={header: "daniel"}, follow_redirects=False)
        assert proxied.status_code == 403, header
