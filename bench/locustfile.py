"""The users of `bench/load.py`: members who log in, browse week grids and book; staff at the desk.

Runs in the load generator's own virtualenv (.venv-load, bench/requirements-load.txt): locust and
the standard library only, no Django. `LOAD_PLAN` names the JSON file load.py wrote: logins,
machine slugs, weeks and member ids. Each simulated person connects from an address of its own in
127.0.0.0/8, as people do from their own machines, so the login rate limit (per address) applies
to each as in production.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from locust import HttpUser, between, task
from locust.clients import LocustHttpAdapter

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HTMX = {"HX-Request": "true"}
_people = {"member": itertools.count(), "staff": itertools.count()}


class FromAddress(LocustHttpAdapter):
    """Connections from one loopback address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(pool_manager=None)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Person(HttpUser):
    abstract = True
    wait_time = between(PLAN["wait"][0], PLAN["wait"][1])
    kind = ""

    def on_start(self) -> None:
        n = next(_people[self.kind])
        login = PLAN[self.kind][n % len(PLAN[self.kind])]
        self.client.mount("http://", FromAddress(login["address"]))
        page = self.client.get("/accounts/login/", name="login form")
        token = TOKEN.search(page.text)
        with self.client.post(
            "/accounts/login/",
            {
                "login": login["email"],
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token[1] if token else "",
            },
            name="log in",
            catch_response=True,
        ) as response:
            if not response.url.rstrip("/").endswith(PLAN["after_login"][self.kind]):
                response.failure(f"login ended at {response.url} ({response.status_code})")

    def csrf(self) -> dict:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}


class Member(Person):
    fixed_count = PLAN["members_online"]
    kind = "member"

    def week(self) -> str:
        return random.choice(PLAN["weeks"])  # noqa: S311

    @task(6)
    def week_grid(self) -> None:
        slug = random.choice(PLAN["machines"])  # noqa: S311
        self.client.get(
            f"/bookings/machine/{slug}/grid/?week={self.week()}",
            headers=HTMX,
            name="week grid (htmx)",
        )

    @task(2)
    def booking_page(self) -> None:
        slug = random.choice(PLAN["machines"])  # noqa: S311
        self.client.get(f"/bookings/machine/{slug}/?week={self.week()}", name="booking page")

    @task(2)
    def machine_page(self) -> None:
        slug = random.choice(PLAN["machines"])  # noqa: S311
        self.client.get(f"/machines/{slug}/", name="machine page")

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="member dashboard")

    @task(1)
    def my_bookings(self) -> None:
        self.client.get("/bookings/", name="my bookings")

    @task(3)
    def book(self) -> None:
        """A 2-hour block of the weeks ahead: booked, or refused with a sentence (taken)."""
        slug = random.choice(PLAN["machines"])  # noqa: S311
        monday = date.fromisoformat(self.week())
        day = monday + timedelta(days=random.randrange(7))  # noqa: S311
        hour = random.choice(PLAN["block_hours"])  # noqa: S311
        zone = timezone(timedelta(minutes=PLAN["utc_offset_minutes"][day.isoformat()]))
        start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        with self.client.post(
            f"/bookings/machine/{slug}/new/",
            {"start": start.isoformat(), "minutes": 120, "form_token": str(uuid.uuid4())},
            headers={**HTMX, **self.csrf()},
            name="create booking (htmx)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif "Booked " not in response.text and 'role="alert"' not in response.text:
                response.failure("neither booked nor refused")


class Desk(Person):
    fixed_count = PLAN["staff_online"]
    kind = "staff"
    wait_time = between(PLAN["wait"][0] * 2, PLAN["wait"][1] * 2)

    @task(3)
    def today(self) -> None:
        self.client.get("/staff/today/", name="staff today")

    @task(3)
    def search(self) -> None:
        self.client.get(
            f"/staff/members/?q=bench{random.randrange(PLAN['member_count'])}",  # noqa: S311
            name="staff member search",
        )

    @task(2)
    def member(self) -> None:
        pk = random.choice(PLAN["member_ids"])  # noqa: S311
        self.client.get(f"/staff/members/{pk}/", name="staff member page")

    @task(2)
    def day(self) -> None:
        self.client.get("/bookings/day/", name="staff day")
