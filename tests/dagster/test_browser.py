"""The real Dagster webserver in a real headless Chromium: the asset graph lists the assets and the runs
page shows a finished run."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def webserver(tmp_path: Path, small_inbox: Path) -> Iterator[tuple[str, str]]:
    """An instance with one finished run, served by dagster-webserver; yields (base url, run id)."""
    require(os.path.exists(CHROMIUM), "Chromium is not installed (apt-get install chromium)")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SKILLATLAS_DATA_DIR": str(tmp_path / "data"),
        "SKILLATLAS_INBOX": str(small_inbox),
        "SKILLATLAS_INBOX_QUIET_SECONDS": "0",  # the inbox was written just now
    }
    # A real run in the instance, from the same code location the webserver loads.
    run = subprocess.run(
        [sys.executable, "-c", (
            "import warnings, dagster as dg\n"
            "from definitions import defs\n"
            "with dg.DagsterInstance.get() as inst:\n"
            "    r = defs.resolve_job_def('health_job').execute_in_process(instance=inst)\n"
            "    print(r.run_id)\n"
        )],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    run_id = run.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/server_info")
        yield base, run_id
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_ui_shows_asset_graph_and_finished_run(webserver: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, run_id = webserver
    with sync_playwright() as p:
        # Playwright gives every launch a fresh, empty user-data-dir of its own.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS[1:], headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{base}/assets", wait_until="networkidle")
        for asset in ("document_skills", "course_occupation_scores", "search_index", "skill_taxonomy"):
            expect(page.get_by_text(asset, exact=True).first).to_be_visible(timeout=60_000)
        page.screenshot(path=str(tmp_path / "assets.png"))

        page.goto(f"{base}/locations/skillatlas/asset-groups/documents", wait_until="networkidle")
        expect(page.get_by_text("document_text").first).to_be_visible(timeout=60_000)

        page.goto(f"{base}/runs", wait_until="networkidle")
        expect(page.get_by_text(run_id[:8]).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("health_job").first).to_be_visible()
        expect(page.get_by_text("Success").first).to_be_visible()
        page.screenshot(path=str(tmp_path / "runs.png"))
        browser.close()
