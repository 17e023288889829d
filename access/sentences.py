"""The access decision's reason, as the sentence a person reads, in the active language.

`access.policy` keeps its sentences English and pure (the wire carries the reason code and that
English sentence; a gate shows its own language from the code); pages and emails translate here.
"""

from __future__ import annotations

from django.utils.translation import gettext

from access.policy import Reason


def reason_sentence(reason: Reason) -> str:
    return gettext(reason.sentence)
