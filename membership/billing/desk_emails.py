"""The desk's emails (tasks, retried by the task runner): low stock to staff, a pay-by link."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from core.money import money_format
from core.tasks import EmailTask
from membership import roles
from membership.billing.catalogue import Material, MaterialSale
from membership.models import User


@shared_task(base=EmailTask)
def low_stock_email(*, material_id: int) -> None:
    material = Material.objects.get(pk=material_id)
    staff = list(
        User.objects.filter(groups__name=roles.STAFF, is_active=True).values_list(
            "email", flat=True
        )
    )
    if not staff:
        return
    send_mail(
        f"[{settings.SPACE_NAME}] Low stock: {material.name}",
        f"{material.name} is down to {material.stock} {material.unit} "
        f"(alert at {material.low_stock_threshold}). Restock it in the admin.\n",
        settings.DEFAULT_FROM_EMAIL,
        staff,
    )


@shared_task(base=EmailTask)
def pay_link_email(*, sale_id: int) -> None:
    sale = MaterialSale.objects.select_related("member__user", "material").get(pk=sale_id)
    send_mail(
        f"[{settings.SPACE_NAME}] Please confirm your payment",
        f"Hello {sale.member.display_name},\n\nThe payment of "
        f"{money_format(sale.total_minor, sale.currency)} for {sale.quantity} x "
        f"{sale.material.name} bought at the desk needs you: your bank asked you to confirm "
        f"it, or the card on file did not pay it. Pay it here:\n{sale.pay_url}\n\n"
        f"{settings.SPACE_NAME}\n",
        settings.DEFAULT_FROM_EMAIL,
        [sale.member.user.email],
    )


@shared_task(base=EmailTask)
def card_failed_email(*, sale_id: int, reason: str = "") -> None:
    """The staff member who sold it: the card on file did not pay after all."""
    sale = MaterialSale.objects.select_related("member", "material", "sold_by").get(pk=sale_id)
    if not sale.sold_by.email:
        return
    send_mail(
        f"[{settings.SPACE_NAME}] Card payment failed: {sale.member.display_name}",
        f"The card payment of {money_format(sale.total_minor, sale.currency)} for "
        f"{sale.quantity} x {sale.material.name} sold to {sale.member.display_name} failed"
        f"{f' ({reason})' if reason else ''}. They were emailed a pay-by link; the sale shows "
        f"as awaiting payment on their member page until they pay.\n",
        settings.DEFAULT_FROM_EMAIL,
        [sale.sold_by.email],
    )


@shared_task(base=EmailTask)
def sale_expired_email(*, sale_id: int) -> None:
    """The staff member who sold it: the card never paid, so the sale was undone."""
    sale = MaterialSale.objects.select_related("member", "material", "sold_by").get(pk=sale_id)
    if not sale.sold_by.email:
        return
    what = {
        "amount": money_format(sale.total_minor, sale.currency),
        "quantity": sale.quantity,
        "material": sale.material.name,
        "member": sale.member.display_name,
        "minutes": settings.DESK_SALE_PAYMENT_MINUTES,
    }
    send_mail(
        _("[%(space)s] Sale expired unpaid: %(member)s")
        % {"space": settings.SPACE_NAME, "member": sale.member.display_name},
        _(
            "The card payment of %(amount)s for %(quantity)s x %(material)s sold to %(member)s "
            "was not made within %(minutes)s minutes, so the sale was undone: the stock is "
            "counted back. Take the material back, or sell it again in cash or from credits. "
            "A card payment that still arrives for it is refunded automatically.\n"
        )
        % what,
        settings.DEFAULT_FROM_EMAIL,
        [sale.sold_by.email],
    )
