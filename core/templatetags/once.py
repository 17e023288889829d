"""`{% form_token %}`: a fresh one-time form token (core.forms.OnceForm) for each form a page
repeats per row, so that two of them on one page are two submissions, not one used twice."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def form_token() -> str:
    return format_html('<input type="hidden" name="form_token" value="{}">', uuid.uuid4())
