"""Production access: the authenticating proxy (scripts/proxy.sh, deploy/proxy/) in front of
real Dagster webservers started as documented (scripts/webserver.sh) and the review desk.

Real parts only: nginx with its htpasswd files on a free loopback port, the writable and the
read-only `dagster-webserver` and `python -m pix_pipeline.desk` on loopback ports over a
Dagster home with a processed job, and an HTTP server that reports the headers it receives.
"""

import base64
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from pix_pipeline.settings import VARIABLES
from pix_pipeline_tests.conftest import Harness, ProxyTools
from pix_pipeline_tests.desk.rig import csrf
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import free_port, start, stop_group, wait_for, wait_for_http

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JOB = "PROXYJOB"
ADMIN_HOST, VIEWER_HOST, DESK_HOST = "dagster.pix.test", "view.pix.test", "desk.pix.test"
ADMIN, ADMIN_PASSWORD = "daniel", "admin-pw-7Qx"
VIEWER, VIEWER_PASSWORD = "assistant", "viewer-pw-3Lm"
DESK_PASSWORD = "desk-pw-9Rt"

pytestmark = pytest.mark.proxy

# Every kind of route the Dagster webserver serves, the UI pages among them.
ROUTES = [
    "/",
    "/runs",
    "/assets",
    "/assets/gallery",
    "/jobs",
    "/locations",
    "/overview",
    "/automation",
    "/graphql",
    "/graphiql",
    "/server_info",
    "/dagit_info",
    "/favicon.png",
    "/static/js/main.js",
    "/download_debug/0",
    "/logs/x/compute_logs/y",
    "/notebook?path=/etc/passwd",
    "/report_async_events",
]

# The desk's pages, image route, form posts and static files.
DESK_ROUTES = [
    "/",
    "/login",
    "/health",
    f"/jobs/{JOB}",
    f"/jobs/{JOB}/photos/x",
    "/photos/x/thumb",
    "/static/desk.css",
]

RELEASE_MUTATION = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}"""


def release_params() -> dict[str, Any]:
    return {
        "selector": {
            "repositoryLocationName": "pix_pipeline",
            "repositoryName": "__repository__",
            "jobName": "release_gallery",
        },
        "runConfigData": {"ops": {"release_job_gallery": {"config": {"approved_by": "x"}}}},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": JOB}]},
    }


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with the headers it received, as JSON, and sets a session-like
    cookie the way the desk does (HttpOnly, SameSite, no Secure flag of its own)."""

    def do_GET(self) -> None:
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Set-Cookie", "session=abc; Path=/; HttpOnly; SameSite=lax")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the answers, not a log."""


@dataclass
class Stack:
    proxy: str
    admin_port: int
    viewer_port: int
    desk_port: int
    home: Path
    root: Path
    state: Path

    def get(
        self,
        host: str,
        path: str,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return httpx.get(
            self.proxy + path, headers={"Host": host, **(headers or {})}, auth=auth, timeout=30
        )

    def graphql(
        self, host: str, query: str, variables: Any = None, auth: tuple[str, str] | None = None
    ) -> httpx.Response:
        return httpx.post(
            self.proxy + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Host": host},
            auth=auth,
            timeout=60,
        )

    def run_ids(self) -> list[str]:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return [r.run_id for r in instance.get_runs()]

    def visibility(self) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.root / "pix_registry.sqlite3") as conn:
            return conn.execute("select job_id, gallery_visibility from jobs").fetchall()


def htpasswd_file(tools: ProxyTools, path: Path, user: str, password: str) -> Path:
    subprocess.run([tools.htpasswd, "-c", "-b", "-B", str(path), user, password], check=True)
    return path


def proxy_env(tools: ProxyTools, base: Path, **extra: str) -> dict[str, str]:
    """The environment scripts/proxy.sh reads; as root, nginx workers stay this user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_PROXY_")}
    env.update(
        NGINX=tools.nginx,
        PIX_PROXY_WORKER_USER=os.environ.get("USER") or "root",
        PIX_PROXY_STATE_DIR=str(base / "proxy_state"),
        PIX_PROXY_ADMINS_FILE=str(htpasswd_file(tools, base / "admins", ADMIN, ADMIN_PASSWORD)),
        PIX_PROXY_VIEWERS_FILE=str(htpasswd_file(tools, base / "viewers", VIEWER, VIEWER_PASSWORD)),
        PIX_PROXY_ADMIN_HOST=ADMIN_HOST,
        PIX_PROXY_VIEWER_HOST=VIEWER_HOST,
        PIX_PROXY_DESK_HOST=DESK_HOST,
    )
    env.update(extra)
    return env


def prepare_job(home: Path, root: Path, env: dict[str, str]) -> None:
    """A job processed into a draft gallery (internal), as the sensor and a run leave it."""
    with pytest.MonkeyPatch.context() as mp:
        for name in VARIABLES:
            mp.delenv(name, raising=False)
        for name, value in env.items():
            mp.setenv(name, value)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            harness = Harness(root, instance)
            try:
                write_settled(harness.final_input(JOB) / "IMG_1.jpg", jpeg_bytes(photo((320, 240))))
                harness.tick_and_run()
            finally:
                harness.close()


@pytest.fixture(scope="module")
def stack(proxy_tools: ProxyTools, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("proxy")
    home, root = base / "dagster_home", base / "storage"
    home.mkdir()
    (root / "pix-jobs").mkdir(parents=True)
    (home / "dagster.yaml").write_bytes((PROJECT / "scripts" / "dagster.local.yaml").read_bytes())
    pix_env = {
        "DAGSTER_HOME": str(home),
        "PIX_LOCAL_ROOT": str(root),
        "PIX_PRIVACY_PROVIDER": "none",
        "PIX_SETTLE_SECONDS": "0",
        "PIX_IMAGE_WORKERS": "1",
    }
    prepare_job(home, root, pix_env)

    admin_port, viewer_port, desk_port, proxy_port = (free_port() for _ in range(4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
    env.update(pix_env)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    webserver = str(PROJECT / "scripts" / "webserver.sh")
    procs = [
        (
            start(["bash", webserver], {**env, "PIX_UI_PORT": str(admin_port)}, base / "admin.log"),
            base / "admin.log",
        ),
        (
            start(
                ["bash", webserver, "--read-only"],
                {**env, "PIX_UI_PORT": str(viewer_port)},
                base / "viewer.log",
            ),
            base / "viewer.log",
        ),
        (
            start(
                [sys.executable, "-m", "pix_pipeline.desk"],
                {
                    **env,
                    "PIX_DESK_HOST": "127.0.0.1",
                    "PIX_DESK_PORT": str(desk_port),
                    "PIX_DESK_PASSWORD": DESK_PASSWORD,
                    "PIX_DAGSTER_URL": f"http://127.0.0.1:{admin_port}",
                },
                base / "desk.log",
            ),
            base / "desk.log",
        ),
    ]
    penv = proxy_env(
        proxy_tools,
        base,
        PIX_PROXY_LISTEN=f"127.0.0.1:{proxy_port}",
        PIX_PROXY_ADMIN_UPSTREAM=f"127.0.0.1:{admin_port}",
        PIX_PROXY_VIEWER_UPSTREAM=f"127.0.0.1:{viewer_port}",
        PIX_PROXY_DESK_UPSTREAM=f"127.0.0.1:{desk_port}",
    )
    procs.append(
        (
            start(["bash", str(PROJECT / "scripts" / "proxy.sh")], penv, base / "proxy.log"),
            base / "proxy.log",
        )
    )
    try:
        for port in (admin_port, viewer_port):
            wait_for_http(f"http://127.0.0.1:{port}/server_info", procs, "127.0.0.1")
        wait_for_http(f"http://127.0.0.1:{desk_port}/login", procs, "127.0.0.1")
        wait_for_http(f"http://127.0.0.1:{proxy_port}/", procs, ADMIN_HOST)
        yield Stack(
            f"http://127.0.0.1:{proxy_port}",
            admin_port,
            viewer_port,
            desk_port,
            home,
            root,
            base / "proxy_state",
        )
    finally:
        for proc, _ in reversed(procs):
            stop_group(proc)


def refused(response: httpx.Response) -> bool:
    """401 from the proxy, with none of an upstream's content."""
    return response.status_code == 401 and "dagster" not in response.text.lower()


def test_without_credentials_every_route_of_every_ui_is_refused(stack: Stack):
    answered = {
        (host, path): stack.get(host, path).status_code
        for host in (ADMIN_HOST, VIEWER_HOST, DESK_HOST)
        for path in ROUTES + DESK_ROUTES
    }
    assert {k: v for k, v in answered.items() if v != 401} == {}
    query = stack.graphql(ADMIN_HOST, "{ runsOrError { __typename } }")
    assert refused(query)
    # Live run logs: the WebSocket upgrade on /graphql is refused before it reaches Dagster.
    upgrade = stack.get(
        ADMIN_HOST,
        "/graphql",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert refused(upgrade)


def test_wrong_credentials_are_refused_like_none(stack: Stack):
    wrong = [
        (ADMIN_HOST, (ADMIN, "not-the-password")),
        (ADMIN_HOST, ("mallory", ADMIN_PASSWORD)),
        # A viewer's login does not open the admins' UI or the desk.
        (ADMIN_HOST, (VIEWER, VIEWER_PASSWORD)),
        (DESK_HOST, (VIEWER, VIEWER_PASSWORD)),
        (VIEWER_HOST, (VIEWER, "not-the-password")),
    ]
    for host, auth in wrong:
        for path in ROUTES:
            response = stack.get(host, path, auth=auth)
            assert refused(response), (host, auth[0], path, response.status_code)
        assert refused(stack.graphql(host, "{ runsOrError { __typename } }", auth=auth))


def test_a_release_mutation_without_a_valid_login_launches_nothing(stack: Stack):
    runs_before, visibility_before = stack.run_ids(), stack.visibility()
    assert visibility_before == [(JOB, "internal")]
    attempts: list[tuple[str, tuple[str, str] | None]] = [
        (ADMIN_HOST, None),
        (ADMIN_HOST, (ADMIN, "not-the-password")),
        (ADMIN_HOST, (VIEWER, VIEWER_PASSWORD)),
        (VIEWER_HOST, None),
    ]
    for host, auth in attempts:
        response = stack.graphql(host, RELEASE_MUTATION, {"params": release_params()}, auth=auth)
        assert refused(response), (host, auth, response.status_code)
    # A client cannot name itself the signed-in user either.
    forged = httpx.post(
        stack.proxy + "/graphql",
        json={"query": RELEASE_MUTATION, "variables": {"params": release_params()}},
        headers={"Host": ADMIN_HOST, "X-Pix-Proxy-User": ADMIN},
        timeout=30,
    )
    assert refused(forged)
    assert stack.run_ids() == runs_before
    assert stack.visibility() == [(JOB, "internal")]


def test_viewers_watch_the_read_only_ui_and_cannot_launch_a_release(stack: Stack):
    viewer = (VIEWER, VIEWER_PASSWORD)
    page = stack.get(VIEWER_HOST, "/runs", auth=viewer)
    assert page.status_code == 200 and "Dagster" in page.text
    answer = stack.graphql(
        VIEWER_HOST, "{ runsOrError { ... on Runs { count } } }", auth=viewer
    ).json()
    assert answer["data"]["runsOrError"]["count"] >= 1
    runs_before = stack.run_ids()
    launch = stack.graphql(VIEWER_HOST, RELEASE_MUTATION, {"params": release_params()}, viewer)
    assert launch.status_code == 200
    assert launch.json()["data"]["launchRun"]["__typename"] == "UnauthorizedError"
    assert stack.run_ids() == runs_before
    assert stack.visibility() == [(JOB, "internal")]


def test_admins_get_the_ui_and_can_launch_a_release(stack: Stack):
    admin = (ADMIN, ADMIN_PASSWORD)
    page = stack.get(ADMIN_HOST, "/assets", auth=admin)
    assert page.status_code == 200 and "Dagster" in page.text
    runs_before = stack.run_ids()
    launch = stack.graphql(ADMIN_HOST, RELEASE_MUTATION, {"params": release_params()}, admin)
    result = launch.json()["data"]["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    # The run is queued (no daemon here); the same mutation without a login created none.
    new = set(stack.run_ids()) - set(runs_before)
    assert new == {result["run"]["runId"]}
    assert result["run"]["status"] == "QUEUED"


def test_the_desks_own_login_is_behind_the_proxy_login(stack: Stack):
    """Nobody reaches the desk's login form (or guesses its password) without the proxy's
    login; behind it, the desk still asks for its own until it trusts the proxy's user."""
    desk_login = {"user": "daniel", "password": DESK_PASSWORD, "next": "/"}
    attempt = httpx.post(
        stack.proxy + "/login", data=desk_login, headers={"Host": DESK_HOST}, timeout=30
    )
    assert refused(attempt)
    admin = (ADMIN, ADMIN_PASSWORD)
    with httpx.Client(base_url=stack.proxy, headers={"Host": DESK_HOST}, auth=admin) as client:
        first = client.get("/", headers={"Accept": "text/html"})
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        form = client.get(first.headers["location"], headers={"Accept": "text/html"})
        assert form.status_code == 200
        desk_login["csrftoken"] = csrf(form.text)
        assert client.post("/login", data=desk_login).status_code == 303
        jobs = client.get("/", headers={"Accept": "text/html"})
        assert jobs.status_code == 200 and JOB in jobs.text


def test_upstreams_get_the_signed_in_user_and_never_the_password(
    proxy_tools: ProxyTools, tmp_path: Path, echo_upstream: str
):
    """What the desk would receive: the proxy's user name (a client's own header replaced),
    no Authorization header, the client's address and scheme."""
    port = free_port()
    env = proxy_env(
        proxy_tools,
        tmp_path,
        PIX_PROXY_LISTEN=f"127.0.0.1:{port}",
        PIX_PROXY_DESK_UPSTREAM=echo_upstream,
    )
    log = tmp_path / "proxy.log"
    proc = start(["bash", str(PROJECT / "scripts" / "proxy.sh")], env, log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", [(proc, log)], DESK_HOST)
        seen = httpx.get(
            f"http://127.0.0.1:{port}/jobs",
            headers={
                "Host": DESK_HOST,
                "X-Pix-Proxy-User": "mallory",
                "X-Forwarded-For": "198.51.100.66",
            },
            auth=(ADMIN, ADMIN_PASSWORD),
        )
    finally:
        stop_group(proc)
    assert seen.status_code == 200
    headers = seen.json()
    assert headers["x-pix-proxy-user"] == ADMIN
    assert "authorization" not in headers
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert (headers["host"], headers["x-forwarded-proto"]) == (DESK_HOST, "http")


def test_unknown_host_names_reach_no_upstream(stack: Stack):
    for host in ("127.0.0.1", "pix.test", "dagster.pix.test.evil.example"):
        response = stack.get(host, "/", auth=(ADMIN, ADMIN_PASSWORD))
        assert response.status_code == 421 and "dagster" not in response.text.lower()


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def test_the_uis_and_the_proxy_are_not_reachable_from_another_address(stack: Stack):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    proxy_port = int(stack.proxy.rsplit(":", 1)[1])
    for port in (stack.admin_port, stack.viewer_port, stack.desk_port, proxy_port):
        assert connects("127.0.0.1", port)
        assert not connects(address, port), f"port {port} answers on {address}"


def test_the_proxy_log_names_users_but_never_their_passwords(stack: Stack):
    stack.get(ADMIN_HOST, "/runs", auth=(ADMIN, ADMIN_PASSWORD))
    stack.get(ADMIN_HOST, "/runs", auth=(ADMIN, "wrong-" + ADMIN_PASSWORD))
    log = (stack.state / "access.log").read_text(encoding="utf-8")
    assert f" {ADMIN} " in log
    for password in (ADMIN_PASSWORD, VIEWER_PASSWORD):
        assert password not in log
        assert base64.b64encode(f"{ADMIN}:{password}".encode()).decode() not in log


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def self_signed(base: Path) -> tuple[Path, Path]:
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={ADMIN_HOST}"),
            *("-addext", f"subjectAltName=DNS:{ADMIN_HOST},IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_with_a_certificate_the_proxy_speaks_only_tls_and_redirects_plain_http(
    proxy_tools: ProxyTools, tmp_path: Path, echo_upstream: str
):
    import ssl

    cert, key = self_signed(tmp_path)
    tls_port, http_port = free_port(), free_port()
    acme = tmp_path / "acme"
    (acme / ".well-known" / "acme-challenge").mkdir(parents=True)
    (acme / ".well-known" / "acme-challenge" / "token1").write_text("proof", encoding="utf-8")
    env = proxy_env(
        proxy_tools,
        tmp_path,
        PIX_PROXY_LISTEN=f"127.0.0.1:{tls_port}",
        PIX_PROXY_TLS_CERT=str(cert),
        PIX_PROXY_TLS_KEY=str(key),
        PIX_PROXY_REDIRECT_LISTEN=f"127.0.0.1:{http_port}",
        PIX_PROXY_ACME_ROOT=str(acme),
        PIX_PROXY_ADMIN_UPSTREAM=echo_upstream,
    )
    log = tmp_path / "proxy.log"
    proc = start(["bash", str(PROJECT / "scripts" / "proxy.sh")], env, log)
    try:
        wait_for_http(f"http://127.0.0.1:{http_port}/", [(proc, log)], ADMIN_HOST)
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=trust, timeout=10) as client:
            url = f"https://127.0.0.1:{tls_port}/runs"
            assert client.get(url, headers={"Host": ADMIN_HOST}).status_code == 401
            ok = client.get(url, headers={"Host": ADMIN_HOST}, auth=(ADMIN, ADMIN_PASSWORD))
            assert ok.status_code == 200 and ok.json()["x-forwarded-proto"] == "https"
            assert ok.headers["strict-transport-security"].startswith("max-age=")
            # The browser sends the desk's session cookie over HTTPS only.
            assert "secure" in ok.headers["set-cookie"].lower().replace(" ", "").split(";")
        # Plain HTTP on the TLS port gets nothing through.
        plain = httpx.get(f"http://127.0.0.1:{tls_port}/runs", headers={"Host": ADMIN_HOST})
        assert plain.status_code == 400
        redirect = httpx.get(f"http://127.0.0.1:{http_port}/runs?x=1", headers={"Host": ADMIN_HOST})
        assert redirect.status_code == 301
        assert redirect.headers["location"] == f"https://{ADMIN_HOST}/runs?x=1"
        challenge = httpx.get(
            f"http://127.0.0.1:{http_port}/.well-known/acme-challenge/token1",
            headers={"Host": ADMIN_HOST},
        )
        assert (challenge.status_code, challenge.text) == (200, "proof")
    finally:
        stop_group(proc)


def run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(PROJECT / "scripts" / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "address",
    [
        "0.0.0.0:443",
        "192.0.2.10:8080",
        "8080",
        # Names are never looked up: this one resolves to 127.0.0.1 but is not an address.
        "127.0.0.1.nip.io:8382",
        "localhost.example.com:8080",
        "[::ffff:192.0.2.10]:8080",
        "[::]:8080",
    ],
)
def test_the_proxy_refuses_plain_http_on_a_non_loopback_address(
    proxy_tools: ProxyTools, tmp_path: Path, address: str
):
    done = run_script("proxy.sh", proxy_env(proxy_tools, tmp_path, PIX_PROXY_LISTEN=address))
    assert done.returncode == 2
    assert f"PIX_PROXY_LISTEN={address} is not a loopback address" in done.stderr
    assert not (tmp_path / "proxy_state" / "nginx.conf").exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "[::1]", "localhost"])
def test_the_proxy_takes_plain_http_on_loopback_addresses(
    proxy_tools: ProxyTools, tmp_path: Path, host: str
):
    address = f"{host}:{free_port()}"
    log = tmp_path / "proxy.log"
    env = proxy_env(proxy_tools, tmp_path, PIX_PROXY_LISTEN=address)
    proc = start(["bash", str(PROJECT / "scripts" / "proxy.sh")], env, log)
    try:
        # The script writes nginx's configuration once the address has passed its check.
        conf = tmp_path / "proxy_state" / "nginx.conf"
        wait_for(lambda: conf.exists() or proc.poll() is not None, 30, "the proxy's check", log)
        assert f"listen {address};" in conf.read_text(encoding="utf-8"), log.read_text()
        assert "is not a loopback address" not in log.read_text()
    finally:
        if proc.poll() is None:
            stop_group(proc)


def test_the_proxy_refuses_to_start_without_a_password_file(
    proxy_tools: ProxyTools, tmp_path: Path
):
    env = proxy_env(proxy_tools, tmp_path)
    del env["PIX_PROXY_ADMINS_FILE"], env["PIX_PROXY_VIEWERS_FILE"]
    done = run_script("proxy.sh", env)
    assert done.returncode == 2 and "PIX_PROXY_ADMINS_FILE must name" in done.stderr
    env["PIX_PROXY_ADMINS_FILE"] = str(tmp_path / "missing")
    done = run_script("proxy.sh", env)
    assert done.returncode == 2 and "missing does not exist" in done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]"])
def test_the_webserver_script_refuses_to_listen_on_every_address(tmp_path: Path, host: str):
    env = {**os.environ, "PIX_UI_HOST": host, "DAGSTER_HOME": str(tmp_path)}
    done = run_script("webserver.sh", env)
    assert done.returncode == 2 and "would listen on every address" in done.stderr
