"""The desk's emails (tasks, retried by the task runner): low stock to staff, a pay-by link.
Each is written in its reader's language (core/languages.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext as _

from core.languages import mail_people
from core.money import money_format
from core.tasks import EmailTask
from membership import roles
from membership.billing.catalogue import Material, MaterialSale
from membership.models import User


def _what(sale: MaterialSale) -> dict[str, object]:
    return {
        "amount": money_format(sale.total_minor, sale.currency),
        "quantity": sale.quantity,
        "material": sale.material.name,
        "member": sale.member.display_name,
        "space": settings.SPACE_NAME,
    }


@shared_task(base=EmailTask)
def low_stock_email(*, material_id: int) -> None:
    material = Material.objects.get(pk=material_id)
    staff = User.objects.filter(groups__name=roles.STAFF, is_active=True)
    what = {
        "material": material.name,
        "stock": material.stock,
        "unit": material.unit,
        "threshold": material.low_stock_threshold,
        "space": settings.SPACE_NAME,
    }

    def compose() -> tuple[str, str]:
        return (
            _("[%(space)s] Low stock: %(material)s") % what,
            _(
                "%(material)s is down to %(stock)s %(unit)s (alert at %(threshold)s). "
                "Restock it in the admin."
            )
            % what
            + "\n",
        )

    mail_people(staff, compose, from_email=settings.DEFAULT_FROM_EMAIL)


@shared_task(base=EmailTask)
def pay_link_email(*, sale_id: int) -> None:
    sale = MaterialSale.objects.select_related("member__user", "material").get(pk=sale_id)
    what = _what(sale) | {"link": sale.pay_url}

    def compose() -> tuple[str, str]:
        return (
            _("[%(space)s] Please confirm your payment") % what,
            _(
                "Hello %(member)s,\n\nThe payment of %(amount)s for %(quantity)s x %(material)s "
                "bought at the desk needs you: your bank asked you to confirm it, or the card on "
                "file did not pay it. Pay it here:\n%(link)s\n\n%(space)s"
            )
            % what
            + "\n",
        )

    mail_people([sale.member.user], compose, from_email=settings.DEFAULT_FROM_EMAIL)


@shared_task(base=EmailTask)
def card_failed_email(*, sale_id: int, reason: str = "") -> None:
    """The staff member who sold it: the card on file did not pay after all."""
    sale = MaterialSale.objects.select_related("member", "material", "sold_by").get(pk=sale_id)
    what = _what(sale)

    def compose() -> tuple[str, str]:
        failed = (
            _(
                "The card payment of %(amount)s for %(quantity)s x %(material)s sold to %(member)s failed (%(reason)s)."
            )
            % (what | {"reason": reason})
            if reason
            else _(
                "The card payment of %(amount)s for %(quantity)s x %(material)s sold to %(member)s failed."
            )
            % what
        )
        return (
            _("[%(space)s] Card payment failed: %(member)s") % what,
            failed
            + " "
            + _(
                "They were emailed a pay-by link; the sale shows as awaiting payment on their "
                "member page until they pay."
            )
            + "\n",
        )

    mail_people([sale.sold_by], compose, from_email=settings.DEFAULT_FROM_EMAIL)


@shared_task(base=EmailTask)
def sale_expired_email(*, sale_id: int) -> None:
    """The staff member who sold it: the card never paid, so the sale was undone."""
    sale = MaterialSale.objects.select_related("member", "material", "sold_by").get(pk=sale_id)
    what = _what(sale) | {"minutes": settings.DESK_SALE_PAYMENT_MINUTES}

    def compose() -> tuple[str, str]:
        return (
            _("[%(space)s] Sale expired unpaid: %(member)s") % what,
            _(
                "The card payment of %(amount)s for %(quantity)s x %(material)s sold to "
                "%(member)s was not made within %(minutes)s minutes, so the sale was undone: the "
                "stock is counted back. Take the material back, or sell it again in cash or from "
                "credits. A card payment that still arrives for it is refunded automatically.\n"
            )
            % what,
        )

    mail_people([sale.sold_by], compose, from_email=settings.DEFAULT_FROM_EMAIL)
