#!/usr/bin/env python3
"""Regenerate the screenshots of the main pages at desktop (1280x800) and phone (390x844) sizes:
`make screenshots`. A fresh demo site (SQLite in a temporary folder, `seed_demo`) is served on a
free port and driven by headless Chromium (/usr/bin/chromium, never a downloaded browser).
Writes docs/screenshots/<page>-<size>.png and the README's docs/screenshot.png.

Pages in states the demo does not seed (a waitlist offer, a day pass, guests at a class, a card
sale awaiting payment) are set up first through the services, in a child process (`scenes`);
the card sale runs against a second demo server in Stripe mode with the tests' fake Stripe API
(`serve-stripe`), never the network."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PASSWORD = "toolgate-demo"  # noqa: S105 (the demo logins, documented in the README)
# (name, who, path, step): who is a demo login or None for a visitor; a path in braces is one
# the scenes return; a step runs on the page before the picture.
Step = Callable[[Any], None] | None
PAGES: list[tuple[str, str | None, str, Step]] = [
    ("home", None, "/", None),
    ("join", None, "/accounts/signup/", None),
    ("machines-public", None, "/machines/", None),
    ("classes-public", None, "/training/", None),
    ("dashboard", "maker@toolgate.test", "/dashboard/", None),
    ("machines", "maker@toolgate.test", "/machines/", None),
    ("calendar-laser-a", "maker@toolgate.test", "/bookings/machine/laser-a/", None),
    ("my-bookings", "maker@toolgate.test", "/bookings/", None),
    ("profile", "maker@toolgate.test", "/profile/", None),
    ("dashboard-past-due", "late@toolgate.test", "/dashboard/", None),
    ("calendar-not-ready", "newbie@toolgate.test", "/bookings/machine/laser-a/", None),
    ("dashboard-waitlist-offer", "local@toolgate.test", "/dashboard/", None),
    ("dashboard-day-pass", "gone@toolgate.test", "/dashboard/", None),
    ("staff-day", "staff@toolgate.test", "/bookings/day/", None),
    (
        "day-pass-cancel",
        "staff@toolgate.test",
        "{pass_holder}",
        lambda page: _open_pass_cancel(page),
    ),
    ("class-roster-guests", "instructor@toolgate.test", "{roster}", None),
    ("report-utilization", "staff@toolgate.test", "/staff/reports/utilization/", None),
    ("report-no-shows", "staff@toolgate.test", "/staff/reports/no-shows/", None),
    ("report-certifications", "staff@toolgate.test", "/staff/reports/certifications/", None),
    ("report-members", "staff@toolgate.test", "/staff/reports/members/", None),
    ("report-money", "staff@toolgate.test", "/staff/reports/money/", None),
]
# Shot against the Stripe-mode server, after the others.
STRIPE_PAGES: list[tuple[str, str | None, str, Step]] = [
    (
        "desk-awaiting-payment",
        "staff@toolgate.test",
        "{card_holder}",
        lambda page: _sell_by_card(page),
    ),
]


def _open_pass_cancel(page) -> None:
    """The holder's staff page with a pass's "Cancel this pass" opened, scrolled to it."""
    summary = page.get_by_text("Cancel this pass").first
    summary.click()
    page.locator("[data-day-pass-sale]").scroll_into_view_if_needed()


def _sell_by_card(page) -> None:
    """A sheet of acrylic sold to the card on file, which the bank is still processing."""
    sale = page.locator("form[action$='/sales/']")
    sale.get_by_label("Material").select_option(index=1)
    sale.get_by_label("Paid by").select_option(value="stripe")
    sale.get_by_role("button", name="Sell").click()
    page.get_by_text("Awaiting payment").first.wait_for()


def scenes() -> dict[str, str]:
    """(Child process, Django set up.) The states of the pages above that the demo does not seed,
    made through the services; returns the paths they are seen at."""
    from datetime import time as clock_time
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from bookings import services as bookings
    from bookings import waitlist
    from equipment.daypasses import services as day_passes
    from equipment.models import DayPassProduct, Machine
    from membership.models import Member, User
    from training import guests
    from training import services as training
    from training.models import ClassSession

    def member(email: str) -> Member:
        return Member.objects.get(user__email=email)

    maker, local, gone = (member(f"{n}@toolgate.test") for n in ("maker", "local", "gone"))
    newbie = member("newbie@toolgate.test")
    staff = User.objects.get(email="staff@toolgate.test")
    laser = Machine.objects.get(slug="laser-a")
    # Lou waits for 10:30-11:30 of Sam's 10:00-12:00 in three days; Sam cancels: it is offered.
    day = timezone.localdate() + timedelta(days=3)
    start = timezone.make_aware(datetime.combine(day, clock_time(10)))
    booking = bookings.booking_create(
        member=member("staff@toolgate.test"),
        machine=laser,
        start=start,
        end=start + timedelta(hours=2),
    )
    waitlist.wait_join(
        member=local,
        machine=laser,
        start=start + timedelta(minutes=30),
        end=start + timedelta(minutes=90),
    )
    bookings.booking_cancel(booking=booking, actor=staff, reason="Demo: plans changed")
    # Cas, whose membership ended, bought today's laser day pass at the desk.
    day_passes.day_pass_sell_at_desk(
        holder=gone,
        product=DayPassProduct.objects.get(name="Laser day pass"),
        day=timezone.localdate(),
        method="cash",
        actor=staff,
    )
    # Ned takes the next safety class and brings two friends.
    session = (
        ClassSession.objects.filter(
            certification__slug="general-shop-safety", start__gt=timezone.now()
        )
        .order_by("start")
        .first()
    )
    seat = training.enrollment_create(member=newbie, session=session)
    for name in ("Robin Guest", "Kim Friend"):
        guests.guest_bring(
            enrollment=seat,
            name=name,
            email=f"{name.split()[0].lower()}@example.org",
            signed_name=name,
            actor=newbie.user,
        )
    return {
        "pass_holder": reverse("staff_member_detail", args=[gone.pk]),
        "roster": reverse("training:roster", args=[session.pk]),
        "card_holder": reverse("staff_member_detail", args=[maker.pk]),
    }


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


def shoot(base: str, pages, paths: dict[str, str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for size, (width, height) in SIZES.items():
            for who in dict.fromkeys(who for _, who, _, _ in pages):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                if who:
                    _log_in(page, base, who)
                for name, page_who, path, step in pages:
                    if page_who != who:
                        continue
                    page.goto(base + path.format(**paths))
                    page.wait_for_load_state("networkidle")
                    if step is not None:
                        step(page)
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


def _serve(command: list[str], env: dict[str, str]) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 (our own manage.py and this script)
        [*command, f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(port, server)
    return f"http://127.0.0.1:{port}", server


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


def main(names: list[str]) -> None:
    """All pages, or only those named (`scripts/screenshots.py dashboard day-pass-cancel`)."""
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
        made = subprocess.run(  # noqa: S603 (this script)
            [sys.executable, __file__, "scenes"],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        paths = json.loads(made.stdout.strip().splitlines()[-1])
        written = []
        for pages, command in (
            (PAGES, [*manage, "runserver", "--noreload"]),
            (STRIPE_PAGES, [sys.executable, __file__, "serve-stripe"]),
        ):
            pages = [p for p in pages if not names or p[0] in names]
            if not pages:
                continue
            base, server = _serve(command, env)
            try:
                written += shoot(base, pages, paths)
            finally:
                _stop(server)
    print(f"{len(written)} screenshots in {OUT.relative_to(ROOT)} and docs/screenshot.png")


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def serve_stripe(address: str) -> None:
    """(Child process.) The demo site in Stripe mode, every Stripe request answered by the tests'
    fake API; Maya has a card on file, which the bank keeps processing."""
    _django()
    import stripe
    from django.conf import settings
    from django.core.management import call_command

    from membership.models import Membership
    from tests.membership import stripe_support

    settings.STRIPE_SECRET_KEY = stripe_support.SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = stripe_support.WEBHOOK_SECRET
    fake = stripe_support.FakeStripeAPI()
    fake.card_outcome = "processing"
    stripe.default_http_client = fake
    stripe.max_network_retries = 0
    Membership.objects.filter(member__user__email="maker@toolgate.test").update(
        stripe_customer_id="cus_screenshots"
    )
    call_command("runserver", address, use_reloader=False)


if __name__ == "__main__":
    if sys.argv[1:] == ["scenes"]:
        _django()
        print(json.dumps(scenes()))
    elif sys.argv[1:2] == ["serve-stripe"]:
        serve_stripe(sys.argv[2])
    else:
        main(sys.argv[1:])
