"""Each finding of issue 11 replayed against the running apps (public and staff, fake bot, loopback), asserting
the refusal: staff events by fn_index, proxy headers with a public Host, an export fetched without a login,
a 60 MB field, an anonymous upload, bad `k` values, malformed answer objects; plus the login itself."""

from __future__ import annotations

import http.client
import json
import select
import stat
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))  # the served apps of the ui tests
from fakes import FakeBot
from servers import STAFF_PASSWORD, STAFF_USER, RunningApp, app_settings, serve_app, serve_staff_app

from bot.results import Answer

SECRET = "SECRET-comment-7f3a"  # stored as a thumbs-down comment: no public route may ever return it
PROXY_HEADERS = {"X-Forwarded-For": "203.0.113.9, 127.0.0.1", "X-Real-IP": "127.0.0.1",
                 "Forwarded": "for=127.0.0.1;host=faq.example.org;proto=https",
                 "X-Forwarded-Host": "faq.example.org", "X-Forwarded-Proto": "https", "Host": "faq.example.org"}
STAFF_NAMES = ("ui_staff", "ui_export", "ui_doc")
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")  # pandas notes inside gradio


# -- plumbing ------------------------------------------------------------------------------------------
def request(url: str, method: str = "GET", path: str = "/", body: bytes | None = None,
            headers: dict[str, str] | None = None, cookie: str = "") -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if cookie:
        all_headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def call(url: str, api_name: str, data: list[Any], cookie: str = "") -> tuple[str, Any]:
    """One named endpoint through /gradio_api/call: ("complete", output) or ("error", message)."""
    status, _, body = request(url, "POST", f"/gradio_api/call/{api_name}", json.dumps({"data": data}).encode(),
                              cookie=cookie)
    assert status == 200, (status, body[:200])
    event_id = json.loads(body)["event_id"]
    _, _, stream = request(url, "GET", f"/gradio_api/call/{api_name}/{event_id}", cookie=cookie)
    event = ""
    for line in stream.decode().splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = json.loads(line.split(":", 1)[1])
            return event, payload[0] if event == "complete" else payload
    raise AssertionError(f"no result in {stream[:300]!r}")


def join(url: str, fn_index: int, data: list[Any], cookie: str = "") -> tuple[int, str]:
    """An event by its number, the way the finding did: POST queue/join, then read the queue's stream."""
    session = f"probe{fn_index}"
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    status, _, answer = request(url, "POST", "/gradio_api/queue/join", body, cookie=cookie)
    if status != 200:
        return status, answer.decode(errors="replace")
    _, _, stream = request(url, "GET", f"/gradio_api/queue/data?session_hash={session}", cookie=cookie)
    return status, stream.decode(errors="replace")


def login(url: str, name: str = STAFF_USER, password: str = STAFF_PASSWORD) -> tuple[int, str]:
    """(status, cookie for later requests) of a form login."""
    form = urllib.parse.urlencode({"username": name, "password": password}).encode()
    status, headers, _ = request(url, "POST", "/login", form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    return status, headers.get("set-cookie", "").split(";", 1)[0]


def wait_for(condition: Any, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def config(url: str, cookie: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    status, _, body = request(url, path="/config", cookie=cookie, headers=headers)
    assert status == 200, status
    return json.loads(body)


def staff_names(cfg: dict[str, Any]) -> set[str]:
    names = {d.get("api_name") or "" for d in cfg["dependencies"]}
    ids = {c.get("props", {}).get("elem_id") or "" for c in cfg["components"]}
    return {n for n in names | ids if n.startswith((*STAFF_NAMES, "staff-", "doc-", "export-", "tab-feedback"))}


# -- the apps ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def public_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with serve_app(FakeBot(), tmp_path_factory.mktemp("public") / "feedback.sqlite3") as app:
        answer = Answer(question="Wer darf sich bewerben?", text="Alle.", language="de", abstained=False)
        app.store.record("Wer darf sich bewerben?", answer, -1, SECRET)
        yield app


@pytest.fixture(scope="module")
def staff_app(public_app: RunningApp) -> Iterator[RunningApp]:
    with serve_staff_app(FakeBot(), public_app.settings) as app:
        yield app


@pytest.fixture(scope="module")
def cookie(staff_app: RunningApp) -> str:
    status, value = login(staff_app.url)
    assert status == 303 and value.startswith("gocluster_staff=")
    return value


# -- staff events by fn_index, and proxy headers -----------------------------------------------------------
@pytest.mark.parametrize("headers", [None, PROXY_HEADERS], ids=["direct", "behind-a-proxy"])
def test_public_config_has_no_staff_component_or_event(public_app: RunningApp, headers: dict | None) -> None:
    cfg = config(public_app.url, headers=headers)
    assert staff_names(cfg) == set()
    public = {d["api_name"] for d in cfg["dependencies"] if d.get("api_visibility", "public") == "public"}
    assert {"ask", "search", "feedback"} <= public


def test_no_fn_index_of_the_public_app_returns_staff_data(public_app: RunningApp) -> None:
    deps = config(public_app.url)["dependencies"]
    seen = []
    for fn_index in range(len(deps) + 5):  # every event, and some beyond the last
        for data in ([None] * 8, ["x"] * 8):
            status, text = join(public_app.url, fn_index, data)
            seen.append(status)
            assert SECRET not in text
            assert "Traceback" not in text and str(public_app.settings.feedback_db) not in text
    assert 200 in seen and any(s >= 400 for s in seen)  # events ran; numbers past the last were refused


def test_staff_app_refuses_every_route_and_event_without_a_login(staff_app: RunningApp, cookie: str) -> None:
    n = len(config(staff_app.url, cookie)["dependencies"])
    assert {"ui_staff_tables", "ui_doc_add"} <= {d["api_name"] for d in config(staff_app.url, cookie)["dependencies"]}
    for headers in (None, PROXY_HEADERS, {"X-Forwarded-For": "127.0.0.1", "Host": "127.0.0.1"}):
        for fn_index in range(n):
            status, text = join(staff_app.url, fn_index, [None] * 4)
            assert status == 401 and SECRET not in text
        for method, path in [("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/run/predict"),
                             ("GET", "/gradio_api/queue/data?session_hash=x"), ("GET", "/theme.css"),
                             ("POST", "/gradio_api/call/ui_staff_tables"), ("GET", "//config"),
                             ("GET", "/gradio_api/file=/etc/passwd")]:
            status, _, body = request(staff_app.url, method, path, b"{}", headers=headers)
            assert status == 401 and body == b'{"error": "Login required."}', (path, status)
    status, headers, _ = request(staff_app.url, headers={"Accept": "text/html"})
    assert status == 303 and headers["location"] == "/login"


def test_forged_or_expired_cookies_do_not_pass(staff_app: RunningApp, cookie: str) -> None:
    assert request(staff_app.url, path="/config", cookie="gocluster_staff=forged")[0] == 401
    assert request(staff_app.url, path="/config", cookie=cookie + "x")[0] == 401
    status, other = login(staff_app.url)
    assert status == 303 and request(staff_app.url, path="/config", cookie=other)[0] == 200
    assert request(staff_app.url, path="/logout", cookie=other)[0] == 303
    assert request(staff_app.url, path="/config", cookie=other)[0] == 401  # logged out: the token is dead


# -- the login ---------------------------------------------------------------------------------------------
def test_login_sets_a_strict_http_only_cookie_and_wrong_passwords_fail(staff_app: RunningApp) -> None:
    form = urllib.parse.urlencode({"username": STAFF_USER, "password": STAFF_PASSWORD}).encode()
    status, headers, _ = request(staff_app.url, "POST", "/login", form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and headers["location"] == "/"
    attributes = headers["set-cookie"].lower()
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert "max-age=28800" in attributes
    status, _, page = request(staff_app.url, "POST", "/login",
                              urllib.parse.urlencode({"username": STAFF_USER, "password": "wrong"}).encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401 and "Name oder Passwort falsch. / Wrong name or password." in page.decode()
    assert request(staff_app.url, path="/login")[0] == 200


def test_failed_logins_pause_the_account_and_the_client(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    with serve_staff_app(FakeBot(), settings) as app:
        statuses = [login(app.url, STAFF_USER, f"wrong {i}")[0] for i in range(6)]
        assert statuses[:5] == [401] * 5 and statuses[5] == 429
        status, cookie = login(app.url)  # even the right password waits now
        assert status == 429 and cookie == ""
        other = [login(app.url, f"guess{i}", "wrong password")[0] for i in range(3)]
        assert other == [429] * 3  # the client is paused too, whatever name it tries


def test_a_removed_account_is_logged_out_at_its_next_request(tmp_path: Path) -> None:
    from ui.accounts import Accounts

    settings = app_settings(tmp_path)
    with serve_staff_app(FakeBot(), settings) as app:
        Accounts(settings.staff_users_file).add("temp", "a temporary pass phrase")
        status, cookie = login(app.url, "temp", "a temporary pass phrase")
        assert status == 303 and request(app.url, path="/config", cookie=cookie)[0] == 200
        Accounts(settings.staff_users_file).remove("temp")
        assert request(app.url, path="/config", cookie=cookie)[0] == 401
    assert stat.S_IMODE(settings.staff_users_file.stat().st_mode) == 0o600


# -- exports -----------------------------------------------------------------------------------------------
def test_an_export_needs_a_login_and_is_deleted_once_downloaded(staff_app: RunningApp, cookie: str) -> None:
    folder = staff_app.settings.staff_work_dir / "exports"
    gradio_cache = Path(tempfile.gettempdir()) / "gradio"
    cached_before = set(gradio_cache.rglob("*.csv")) if gradio_cache.exists() else set()
    for headers in (None, PROXY_HEADERS):
        status, _, body = request(staff_app.url, path="/exports/negative.csv", headers=headers)
        assert status == 401 and SECRET.encode() not in body
    status, headers, body = request(staff_app.url, path="/exports/negative.csv", cookie=cookie)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"] and SECRET in body.decode("utf-8-sig")
    assert headers["cache-control"] == "no-store"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert wait_for(lambda: list(folder.iterdir()) == [])  # deleted once sent
    assert stat.S_IMODE(staff_app.settings.staff_work_dir.stat().st_mode) == 0o700
    assert (set(gradio_cache.rglob("*.csv")) if gradio_cache.exists() else set()) == cached_before
    assert request(staff_app.url, path="/exports/passwd.csv", cookie=cookie)[0] == 404
    assert request(staff_app.url, path="/exports/../../etc/passwd", cookie=cookie)[0] == 404


# -- bounded input -----------------------------------------------------------------------------------------
def test_a_60_mb_field_is_refused_before_it_is_read(public_app: RunningApp) -> None:
    before = public_app.store.count()
    parts = urllib.parse.urlsplit(public_app.url)
    prefix = b'{"data": ["Wer?", {"text": "x", "language": "'
    size = 60 * 1024 * 1024
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.putrequest("POST", "/gradio_api/call/feedback")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(size))
    conn.endheaders(prefix)  # the rest is never sent: the refusal comes from the declared length
    response = conn.getresponse()
    assert response.status == 413 and b"larger than 1,000,000 bytes" in response.read()
    conn.close()
    assert streamed_without_length(public_app.url, prefix, size) == 413
    assert public_app.store.count() == before
    assert call(public_app.url, "search", ["Aufnahme", 1, "all", ""])[0] == "complete"  # still serving


def streamed_without_length(url: str, prefix: bytes, size: int) -> int:
    """Send `size` bytes chunked (no Content-Length) until the server answers; return its status."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.putrequest("POST", "/gradio_api/call/feedback")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        for piece in [prefix, *[chunk] * (size // len(chunk))]:
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
            if select.select([conn.sock], [], [], 0)[0]:  # the server has answered
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert sent < size / 4, "the server read far more than its limit"
    return conn.getresponse().status


def test_bounded_fields_and_malformed_answers_get_one_line_in_the_ui_language(public_app: RunningApp) -> None:
    before = public_app.store.count()
    cases = [({"text": "x", "language": "x" * 5_000}, "Das Feld „language“ ist ungültig"),
             ("kein Objekt", "Die Antwort muss das Objekt sein, das /ask zurückgegeben hat."),
             ({"citations": "x"}, "Das Feld „citations“ ist ungültig"),
             ({"citations": [{"chunk_id": "c"}] * 21}, "höchstens 20 Einträgen"),
             ({"text": ["x"]}, "Das Feld „text“ ist ungültig: erwartet Text mit höchstens 20.000 Zeichen.")]
    for answer, expected in cases:
        event, payload = call(public_app.url, "feedback", ["Wer?", answer, -1, ""])
        message = payload["error"]
        assert event == "error" and expected in message and "\n" not in message, message
        assert str(public_app.settings.feedback_db.parent) not in message
    event, payload = call(public_app.url, "feedback", ["Wer?", {"text": "ok"}, 5, ""])
    assert payload["error"] == "Die Bewertung muss 1 (hilfreich) oder -1 (nicht hilfreich) sein."
    event, payload = call(public_app.url, "feedback", ["x" * 4_001, {"text": "ok"}, -1, ""])
    assert "„question“" in payload["error"]
    assert public_app.store.count() == before


def test_anonymous_uploads_are_refused(public_app: RunningApp, staff_app: RunningApp) -> None:
    body = (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nhello\r\n--b--\r\n")
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    for path in ("/gradio_api/upload", "//gradio_api//upload", "/gradio_api/upload?upload_id=abc",
                 "/gradio_api/upload/"):
        assert request(public_app.url, "POST", path, body, headers)[0] == 403, path
        assert request(staff_app.url, "POST", path, body, headers)[0] == 401, path
    uploads = staff_app.settings.staff_work_dir / "uploads"
    assert list(uploads.rglob("x.txt")) == []


def test_the_public_app_serves_no_file_from_any_cache(public_app: RunningApp, staff_app: RunningApp) -> None:
    uploads = staff_app.settings.staff_work_dir / "uploads"
    planted = uploads / "abc" / "feedback-export.csv"  # as Gradio would cache a file handed to a component
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(SECRET)
    try:
        for path in (f"/gradio_api/file={planted}", f"/gradio_api/file={planted.relative_to(uploads)}",
                     "/gradio_api/proxy=http://127.0.0.1/"):
            status, _, body = request(public_app.url, path=path, headers=PROXY_HEADERS)
            assert status == 403 and SECRET.encode() not in body
    finally:
        planted.unlink()


@pytest.mark.parametrize("k", ["abc", None, "NaN", 2.5, 0, 51, True, [], "5"])
def test_bad_k_is_refused_in_one_line(public_app: RunningApp, k: Any) -> None:
    if k == "NaN":  # not JSON, but Python's json (and so Gradio) reads a bare NaN as a float
        status, _, body = request(public_app.url, "POST", "/gradio_api/call/search",
                                  b'{"data": ["Aufnahme", NaN, "all", ""]}')
        assert status == 200
        event_id = json.loads(body)["event_id"]
        _, _, stream = request(public_app.url, path=f"/gradio_api/call/search/{event_id}")
        assert "k muss eine ganze Zahl von 1 bis 50 sein." in stream.decode()
        return
    event, payload = call(public_app.url, "search", ["Aufnahme", k, "all", ""])
    assert (event, payload["error"]) == ("error", "k muss eine ganze Zahl von 1 bis 50 sein.")


def test_a_server_error_is_logged_never_shown(public_app: RunningApp) -> None:
    event, payload = call(public_app.url, "ask", [None])  # the fake bot breaks on a non-text question
    assert event == "error"
    assert payload["error"] == ("Es ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut oder wenden Sie"
                                " sich an die Hotline.")
