"""Bad input gets a clear 4xx with a code, and changes nothing."""

from __future__ import annotations

import pytest

from api.models import ApiWrite
from bookings.models import Booking
from tests.api.conftest import at

pytestmark = pytest.mark.django_db


def _nothing_changed() -> None:
    assert not Booking.objects.exists() and not ApiWrite.objects.exists()


def test_malformed_json_is_a_400(member_api, laser):
    response = member_api.post("/bookings", raw='{"machine": "laser", ')
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "malformed_json",
        "message": "The body is not valid JSON.",
    }
    _nothing_changed()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"machine": "laser", "start": 12, "end": at(3)}, "start"),
        ({"machine": "laser", "start": at(2), "end": "tomorrow"}, "end"),
        ({"machine": "laser", "start": "2030-01-07T10:00:00", "end": at(3)}, "start"),
        ({"machine": ["laser"], "start": at(2), "end": at(3)}, "machine"),
        ({"machine": "laser", "start": at(2), "end": at(3), "colour": "red"}, "colour"),
        ({"start": at(2), "end": at(3)}, "machine"),
        ({"machine": "laser", "start": "0043-09-10T20:40:12+18:49", "end": at(3)}, "start"),
        ({"machine": "laser", "start": at(2), "end": "9999-12-31T23:59:00-05:00"}, "end"),
    ],
    ids=[
        "number-as-time",
        "words-as-time",
        "no-offset",
        "list",
        "unknown-field",
        "missing",
        "no-real-zone",
        "past-year-9999",
    ],
)
def test_wrong_types_unknown_and_missing_fields_are_a_422_naming_the_field(
    member_api, laser, body, field
):
    response = member_api.post("/bookings", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [f["loc"] for f in error["fields"]] == [["body", field]]
    _nothing_changed()


def test_a_huge_body_is_a_413(member_api, laser):
    response = member_api.post("/bookings", raw='{"machine": "' + "x" * 200_000 + '"}')
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    _nothing_changed()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "not-a-cursor"}, "bad_cursor"),
        ({"start": at(3), "end": at(2)}, "bad_span"),
        ({"limit": 0}, "invalid"),
        ({"limit": 101}, "invalid"),
        ({"state": "imaginary"}, "invalid"),
    ],
)
def test_bad_query_parameters_are_refused(member_api, params, code):
    response = member_api.get("/bookings", params)
    assert response.status_code in {400, 422}
    assert response.json()["error"]["code"] == code


def test_an_unknown_path_or_a_non_numeric_id_is_a_json_404(member_api):
    for path in ("/nothing-here", "/bookings/abc"):
        response = member_api.get(path)
        assert response.status_code in {404, 422}
        assert response["Content-Type"].startswith("application/json")
        assert "error" in response.json()
