#!/usr/bin/env python3
"""Regenerate the screenshots of the main pages at desktop (1280x800) and phone (390x844) sizes:
`make screenshots`. A fresh demo site (SQLite in a temporary folder, `seed_demo`) is served on a
free port and driven by headless Chromium (/usr/bin/chromium, never a downloaded browser).
Writes docs/screenshots/<page>-<size>.png and the README's docs/screenshot.png."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PASSWORD = "toolgate-demo"  # noqa: S105 (the demo logins, documented in the README)
# (name, who, path): who is a demo login or None for a visitor.
PAGES = [
    ("home", None, "/"),
    ("join", None, "/accounts/signup/"),
    ("machines-public", None, "/machines/"),
    ("classes-public", None, "/training/"),
    ("dashboard", "maker@toolgate.test", "/dashboard/"),
    ("machines", "maker@toolgate.test", "/machines/"),
    ("calendar-laser-a", "maker@toolgate.test", "/bookings/machine/laser-a/"),
    ("my-bookings", "maker@toolgate.test", "/bookings/"),
    ("profile", "maker@toolgate.test", "/profile/"),
    ("dashboard-past-due", "late@toolgate.test", "/dashboard/"),
    ("calendar-not-ready", "newbie@toolgate.test", "/bookings/machine/laser-a/"),
    ("staff-day", "staff@toolgate.test", "/bookings/day/"),
    ("report-utilization", "staff@toolgate.test", "/staff/reports/utilization/"),
    ("report-no-shows", "staff@toolgate.test", "/staff/reports/no-shows/"),
    ("report-certifications", "staff@toolgate.test", "/staff/reports/certifications/"),
    ("report-members", "staff@toolgate.test", "/staff/reports/members/"),
    ("report-money", "staff@toolgate.test", "/staff/reports/money/"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the demo site exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the demo site did not start in 60 s")


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/dashboard/")


def shoot(base: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for size, (width, height) in SIZES.items():
            for who in dict.fromkeys(who for _, who, _ in PAGES):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                if who:
                    _log_in(page, base, who)
                for name, page_who, path in PAGES:
                    if page_who != who:
                        continue
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{name}-{size}.png"
                    page.screenshot(path=target, full_page=True)
                    written.append(target)
                    if name == "calendar-laser-a" and size == "desktop":
                        # The README's picture: the booking panel open over the week grid.
                        page.locator('td[data-status="free"] a').nth(40).click()
                        page.locator("#booking-panel .booking-form").wait_for()
                        page.screenshot(path=ROOT / "docs" / "screenshot.png")
                        written.append(ROOT / "docs" / "screenshot.png")
                context.close()
        browser.close()
    return written


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{folder}/screenshots.sqlite3",
            "TASK_BROKER_URL": "memory://",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
            subprocess.run(  # noqa: S603 (our own manage.py)
                [*manage, *command], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL
            )
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(port, server)
            written = shoot(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{len(written)} screenshots in {OUT.relative_to(ROOT)} and docs/screenshot.png")


if __name__ == "__main__":
    main()
