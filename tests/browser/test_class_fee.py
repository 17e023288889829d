"""A member pays a class fee through (faked) Stripe Checkout and sees the seat confirmed."""

from __future__ import annotations

import pytest

from tests.browser.test_billing import _stripe_sends
from tests.browser.test_billing import stripe_api as stripe_api
from tests.factories.membership import PASSWORD, MembershipFactory
from tests.factories.training import CertificationFactory, ClassSessionFactory
from tests.membership import stripe_support as s
from training.models import Enrollment, FeeState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_pays_the_class_fee_and_the_seat_is_confirmed(
    page, log_in, live_server, stripe_api, tmp_path
):
    laser = CertificationFactory(name="Laser cutter", class_fee_minor=7500)
    session = ClassSessionFactory(certification=laser, capacity=4)
    member = MembershipFactory().member
    log_in(member.user, PASSWORD)

    page.goto(f"/training/sessions/{session.pk}/")
    page.get_by_text("Class fee: $75.00").wait_for()
    page.get_by_role("button", name="Enroll").click()
    # Checkout (faked) sends the browser straight back to the class page, before any webhook.
    page.wait_for_url(f"**/training/sessions/{session.pk}/?checkout=success")
    page.get_by_text("Payment received by Stripe — confirming…").wait_for()
    for width, height, name in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"class-fee-held-{name}.png", full_page=True)

    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert call.params["line_items[0][price_data][unit_amount]"] == "7500"
    _stripe_sends(
        live_server, s.event("checkout.session.completed", s.payment_session_object(call))
    )
    page.reload()
    page.get_by_text("Class fee paid.").wait_for()
    assert Enrollment.objects.get(member=member).fee_state == FeeState.PAID
    page.goto("/billing/")
    page.locator("[data-ledger]").get_by_text("$75.00").wait_for()
    page.screenshot(path=tmp_path / "class-fee-ledger.png", full_page=True)
