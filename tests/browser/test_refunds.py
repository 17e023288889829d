"""Front-desk staff find a card refund Stripe refused on the member's page and try it again."""

from __future__ import annotations

import pytest

from membership import roles
from membership.models import StripeRefund
from tests.factories.membership import PASSWORD, StripeRefundFactory, UserFactory
from tests.membership import stripe_support

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_try_a_failed_card_refund_again(
    page, log_in, live_server, settings, monkeypatch, tmp_path
):
    stripe_api = stripe_support.fake_stripe_install(
        settings=settings, monkeypatch=monkeypatch, site_url=live_server.url
    )
    asked = StripeRefundFactory(
        state=StripeRefund.State.FAILED,
        attempts=1,
        last_error="Stripe refused: Your card has expired.",
    )
    staff = UserFactory(role=roles.STAFF)
    log_in(staff, PASSWORD)

    page.goto(f"/staff/members/{asked.payment.member_id}/")
    row = page.locator(f'[data-refund="{asked.pk}"]')
    row.get_by_text("Your card has expired.").wait_for()
    for width, height, name in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page.set_viewport_size({"width": width, "height": height})
        row.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / f"refund-failed-{name}.png")

    row.get_by_role("button", name="Try the refund again").click()
    page.get_by_text("The refund is being sent to Stripe again.").wait_for()
    assert page.locator("[data-refunds]").count() == 0
    page.locator("[data-ledger]").get_by_text("-$30.00").wait_for()
    asked.refresh_from_db()
    assert asked.state == StripeRefund.State.SUCCEEDED
    (post,) = stripe_api.calls("post", "/v1/refunds")
    assert post.headers["Idempotency-Key"].endswith("~retry-1")
