"""`make run`'s launcher as a user starts it: a subprocess on free loopback ports."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

from bench.common import children_of
from infra import ROOT
from localdev.emulator import free_port
from localdev.provision import scratch_project
from tests.browser import Browser, over_http
from tests.e2e.launcher import SLOTS, Runtime, book, drain, launch, start, wait_until_serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The demo bistro writes in French (localdev/demo_restaurant.json: locale "fr").
STAFF_REQUEST = "Demande de réservation\u00a0: "
GUEST_RECEIPT = "Demande reçue\u00a0: "
ACCEPT_LINK = r"^Accepter\s:\s+(\S+)$"
BOOKINGS = "/restaurants/demo-bistro/reservations"


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    yield from launch()


def readme_booking_example() -> str:
    text = (ROOT / "README.md").read_text()
    marker = text.index("<!-- e2e: the block below")
    block = text[marker:].split("```bash\n", 1)[1].split("```", 1)[0]
    return block


def test_the_readme_curl_example_books_the_demo_restaurant(runtime: Runtime) -> None:
    script = readme_booking_example().replace("127.0.0.1:8000", f"127.0.0.1:{runtime.api_port}")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["status"] == "PENDING" and body["manage_token"]
    assert body["starts_at"].endswith(("T19:30:00+01:00", "T19:30:00+02:00"))
    again = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert json.loads(again.stdout)["id"] == body["id"]  # same Idempotency-Key, same booking


def test_fixed_staff_token_sees_accepts_and_guest_cancels(runtime: Runtime) -> None:
    staff = {"Authorization": "Bearer " + runtime.token("staff")}
    assert runtime.token("staff") == "stf_e2e-fixed-staff-token"
    day = date.today() + timedelta(days=3)
    guest = {"name": "Alan Turing", "email": "alan@example.com"}
    status, booked = runtime.call(
        "POST",
        "/restaurants/demo-bistro/reservations",
        {"guest": guest, "party_size": 4, "starts_at": f"{day}T12:30"},
    )
    assert status == 201
    url = f"/restaurants/demo-bistro/reservations/{booked['id']}"
    status, sheet = runtime.call(
        "GET", f"/restaurants/demo-bistro/reservations?date={day}", headers=staff
    )
    assert status == 200 and booked["id"] in [r["id"] for r in sheet["reservations"]]
    assert runtime.call("POST", url + "/accept", headers=staff)[1]["status"] == "ACCEPTED"
    status, cancelled = runtime.call("POST", f"{url}/cancel?token={booked['manage_token']}")
    assert (status, cancelled["status"]) == (200, "CANCELLED")
    admin = {"Authorization": "Bearer " + runtime.token("admin")}
    assert runtime.call("GET", "/restaurants/demo-bistro/staff-tokens", headers=admin)[0] == 200


def test_concurrent_http_requests_never_overbook(runtime: Runtime) -> None:
    day = date.today() + timedelta(days=5)
    body = {
        "guest": {"name": "Racer", "email": "r@example.com"},
        "party_size": 8,
        "starts_at": f"{day}T20:00",
    }
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(
                lambda _: runtime.call("POST", "/restaurants/demo-bistro/reservations", body)[0],
                range(12),
            )
        )
    assert sorted(statuses) == [201] * 5 + [409] * 7  # 40 covers = 5 parties of 8


def test_sixty_four_clients_at_once_are_all_served(runtime: Runtime) -> None:
    """A load test's burst: 64 clients connect at the same moment, twice each. Every request
    gets its answer (no reset connection: chalice local's listen backlog was 5), and every
    booking reaches the staff's inbox."""
    clients, each = 64, 2
    start = threading.Barrier(clients)

    def client(n: int) -> list[int | str]:
        start.wait()
        answers: list[int | str] = []
        for k in range(each):
            i = n * each + k
            day = date.today() + timedelta(days=30 + i % 15)
            body = {
                "guest": {"name": f"Burst {i:03d}", "email": "burst@example.com"},
                "party_size": 1,
                "starts_at": f"{day}T{SLOTS[i % len(SLOTS)]}",
            }
            try:
                answers.append(
                    runtime.call("POST", "/restaurants/demo-bistro/reservations", body)[0]
                )
            except OSError as error:  # ConnectionResetError, refused, timed out
                answers.append(repr(error))
        return answers

    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = [a for batch in pool.map(client, range(clients)) for a in batch]
    assert answers == [201] * clients * each, [a for a in answers if a != 201][:5]
    arrived = runtime.wait_for_messages(
        lambda m: m["subject"].startswith(STAFF_REQUEST + "Burst "),
        count=clients * each,
        timeout=90,
    )
    assert len(arrived) == clients * each


def test_the_local_server_names_no_versions(runtime: Runtime) -> None:
    with urllib.request.urlopen(runtime.api + "/restaurants/demo-bistro", timeout=10) as answer:
        assert answer.headers.get_all("Server") == ["chalice-local"]  # not BaseHTTP/… Python/…
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_second_launcher_says_the_ports_are_taken(runtime: Runtime) -> None:
    second = start(dict(os.environ), runtime.api_port, runtime.aws_port, runtime.outbox_port)
    output, _ = second.communicate(timeout=30)
    assert second.returncode == 1
    assert "already in use" in output and "make run" in output


def test_ctrl_c_stops_everything_cleanly() -> None:
    api_port, aws_port = free_port(), free_port()
    process = start(dict(os.environ), api_port, aws_port)
    api = f"http://127.0.0.1:{api_port}"
    wait_until_serving(process, api)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Stopped" in output and "Traceback" not in output
    for port in (api_port, aws_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def test_two_terminals_chalice_local_as_the_banner_says_and_no_restart_on_mail(
    tmp_path: Path,
) -> None:
    """`localdev.run --no-api`, then the banner's `chalice local ...` line in a second
    terminal (autoreload on, as users run it): it serves on the port the email links use,
    and 20 emails in a row never restart it."""
    api_port, aws_port, outbox_port = free_port(), free_port(), free_port()
    emulator = start(dict(os.environ), api_port, aws_port, outbox_port, tmp_path, "--no-api")
    chalice = None
    try:
        assert emulator.stdout is not None
        banner = ""
        while "Ctrl-C stops everything" not in banner:
            line = emulator.stdout.readline()
            assert line, banner
            banner += line
        threading.Thread(target=drain, args=(emulator, []), daemon=True).start()
        hint = re.search(r"In another terminal: (\S*chalice) (local .*)$", banner, re.MULTILINE)
        assert hint, banner
        assert hint.group(2) == f"local --stage local --port {api_port}"
        chalice = subprocess.Popen(
            [str(Path(sys.executable).parent / "chalice"), *hint.group(2).split()],
            cwd=tmp_path / "project",
            env={k: v for k, v in os.environ.items() if k not in {"ADMIN_TOKEN", "SIGNING_KEY"}},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its autoreload worker is a child: stop them together
        )
        api = f"http://127.0.0.1:{api_port}"
        runtime = Runtime(emulator, api, api_port, aws_port, banner, outbox_port)
        wait_for = time.monotonic() + 30
        while True:
            try:
                status, profile = runtime.call("GET", "/restaurants/demo-bistro")
                assert status == 200 and profile["name"] == "Demo Bistro"
                break
            except OSError:
                assert time.monotonic() < wait_for, "chalice local never answered"
                time.sleep(0.2)
        status, _ = runtime.call(
            "GET",
            "/restaurants/demo-bistro/staff-tokens",
            headers={"Authorization": "Bearer " + runtime.token("admin")},
        )
        assert status == 200  # the secret came from the emulator's SSM
        [worker] = children_of(chalice.pid)

        refused: list[str] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                try:
                    urllib.request.urlopen(api + "/restaurants/demo-bistro", timeout=5).close()
                except OSError as error:
                    refused.append(repr(error))
                time.sleep(0.05)

        poller = threading.Thread(target=keep_asking, daemon=True)
        poller.start()
        for i in range(20):
            book(runtime, f"Mail {i:02d}", date.today() + timedelta(days=2 + i % 4), SLOTS[i % 8])
        mails = runtime.wait_for_messages(
            lambda m: m["subject"].startswith(STAFF_REQUEST + "Mail "), count=20, timeout=60
        )
        assert len(mails) == 20
        receipts = runtime.wait_for_messages(
            lambda m: m["subject"].startswith(GUEST_RECEIPT), count=20, timeout=60
        )
        assert len(receipts) == 20  # each guest hears their request was received
        assert len(list((tmp_path / "outbox").glob("*.eml"))) == 40
        time.sleep(2.5)  # Chalice's file watcher polls every second
        stop.set()
        poller.join()
        assert refused == [], f"the API went away {len(refused)} times: {refused[:3]}"
        assert children_of(chalice.pid) == {worker}, "chalice local restarted its worker"
        [link] = re.findall(ACCEPT_LINK, mails[0]["text"], flags=re.MULTILINE)
        assert link.startswith(f"{api}/restaurants/demo-bistro/")  # links point at this API
        browser = Browser(over_http())  # the page's form, submitted as a browser does
        done = browser.submit(browser.open(link), "Accept reservation")
        assert done.status == 200 and "Reservation accepted" in done.text, done.text
    finally:
        if chalice is not None:
            os.killpg(chalice.pid, signal.SIGTERM)
            chalice.wait(timeout=10)
        emulator.send_signal(signal.SIGINT)
        emulator.wait(timeout=20)


def test_plain_chalice_local_refuses_in_one_line(tmp_path: Path) -> None:
    """`chalice local` with no stage serves 'dev' (an AWS stage); with no region configured
    it would answer every request with a 500, so it stops at once and says what to run."""
    project = scratch_project(tmp_path / "project")
    unset = {"AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "ADMIN_TOKEN", "SIGNING_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update({"HOME": str(tmp_path), "AWS_CONFIG_FILE": os.devnull})
    result = subprocess.run(
        [str(Path(sys.executable).parent / "chalice"), "local", "--port", str(free_port())],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "no AWS region" in lines[0] and "chalice local --stage local" in lines[0]
    assert "make run --no-api" in lines[0]


def test_staff_email_then_accept_link_then_guest_email(runtime: Runtime) -> None:
    day = date.today() + timedelta(days=4)
    started = time.monotonic()
    booked = book(runtime, "Katherine Johnson", day, "12:45", party_size=3)
    found = runtime.wait_for_messages(lambda m: "Katherine Johnson" in m["subject"])
    assert len(found) == 1, "\n".join(runtime.console[-40:])
    [staff] = found
    took = time.monotonic() - started
    assert took < 5, f"staff email after {took:.1f}s"
    assert staff["to"] == ["staff@demo-bistro.example"]
    assert staff["subject"].startswith(STAFF_REQUEST + "Katherine Johnson, 3 personnes")
    assert staff["html"] and staff["text"] and staff["sent_at"]
    assert staff["from"].startswith("Demo Bistro <") and staff["reply_to"] == ["guest@example.com"]
    accept = re.search(ACCEPT_LINK, staff["text"], flags=re.MULTILINE)
    assert accept, staff["text"]
    page = urllib.request.urlopen(accept.group(1), timeout=5).read().decode()
    assert "Accept reservation" in page  # the GET only shows the request
    form = urllib.request.Request(
        accept.group(1),
        data=b"",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "Reservation accepted" in urllib.request.urlopen(form, timeout=5).read().decode()
    [guest] = runtime.wait_for_messages(
        lambda m: m["to"] == ["guest@example.com"] and m["subject"].startswith("Confirmée")
    )
    assert "/manage?token=" in guest["text"]
    assert guest["reply_to"] == ["bonjour@demo-bistro.example"]  # the demo's contact address
    assert guest["attachments"] == [{"filename": "invite.ics", "content_type": "text/calendar"}]
    lines = [line for line in runtime.console if booked["id"] in line]
    for kind in ("stream", "event", "handler", "email"):
        assert any(f" {kind} " in line for line in lines), (kind, lines)


def test_the_outbox_page_lists_messages_newest_first(runtime: Runtime) -> None:
    day = date.today() + timedelta(days=6)
    book(runtime, "First Guest", day, "12:00")
    runtime.wait_for_messages(lambda m: "First Guest" in m["subject"])
    book(runtime, "Second Guest", day, "12:15")
    runtime.wait_for_messages(lambda m: "Second Guest" in m["subject"])
    base = f"http://127.0.0.1:{runtime.outbox_port}"
    index = urllib.request.urlopen(base + "/", timeout=5).read().decode()
    assert index.index("Second Guest") < index.index("First Guest")
    newest = runtime.messages()[0]
    page = urllib.request.urlopen(f"{base}/messages/{newest['id']}", timeout=5).read().decode()
    assert "srcdoc=" in page and "Second Guest" in page
    emls = list((runtime.state / "outbox").glob(f"*{newest['id']}.eml"))
    assert len(emls) == 1 and "Second Guest" in emls[0].read_text()


@pytest.fixture(scope="module")
def faulty_runtime() -> Iterator[Runtime]:
    yield from launch(
        {"LOCAL_FAULTS": "events:PutEvents=0.3,ses:SendEmail=0.3,sqs:DeleteMessage=0.1"}
    )


def test_with_thirty_percent_faults_fifty_reservations_get_fifty_staff_emails(
    faulty_runtime: Runtime,
) -> None:
    assert "FAULTS" in faulty_runtime.banner
    names = []
    for i in range(50):
        day = date.today() + timedelta(days=2 + i % 5)
        names.append(f"Guest {i:02d}")
        book(faulty_runtime, names[-1], day, SLOTS[i % len(SLOTS)], party_size=1)
    faulty_runtime.wait_for_messages(
        lambda m: m["subject"].startswith(STAFF_REQUEST + "Guest "), count=50, timeout=120
    )
    time.sleep(3)  # anything still in flight would show up now
    subjects = [
        m["subject"] for m in faulty_runtime.messages() if m["subject"].startswith(STAFF_REQUEST)
    ]
    guests = sorted(s.split(": ", 1)[1].split(",")[0] for s in subjects)
    assert guests == sorted(names), f"{len(subjects)} staff emails"
    injected = [line for line in faulty_runtime.console if " fault " in line]
    assert any("events:PutEvents" in line for line in injected)
    assert any("ses:SendRawEmail" in line for line in injected)
