"""The lines the person at the machine reads, in the gate's language, with times in the gate's own
time zone.

`Screen` wraps a `Display`: a display that fails is logged and never touches the relay. In English
a refusal or an alarm shows the sentence it came with (the site's, or the agent's with its
details); in another language, the catalogue's sentence for its reason code, when it has one.
"""

from __future__ import annotations

import gettext
import logging
from datetime import datetime, tzinfo

from gate_agent.i18n import N_
from gate_agent.interfaces import Display

log = logging.getLogger(__name__)

END_SENTENCES = {
    "grant_expired": N_("time is up"),
    "idle_timeout": N_("idle too long"),
    "relay_failed": N_("the relay did not switch; staff are told"),
    "message_rejected": N_("the gate refused a message it could not trust"),
    "agent_error": N_("the gate stopped on an error"),
    "agent_stopped": N_("the gate was shut down"),
    "emergency_stop": N_("emergency stop"),
    "out_of_service": N_("the machine was taken out of service"),
    "allowlist_withdrawn": N_("your access was withdrawn"),
}

# The site's sentence for each reason a scan is refused (`access.policy`, and the offline reasons
# of `access.models`), word for word: a test holds the two copies equal, since the agent imports
# nothing of the site.
DENIAL_SENTENCES = {
    "unknown_badge": N_("This badge is not registered. Ask the front desk."),
    "badge_disabled": N_("This badge has been disabled. Ask the front desk for a new one."),
    "membership_inactive": N_(
        "Your membership is not active. Pay your membership to use machines."
    ),
    "plan_excludes_location": N_(
        "Your plan does not include this location. Ask the front desk about a plan for all "
        "locations."
    ),
    "waiver_missing": N_("Sign the current safety waiver on the website first."),
    "machine_out_of_service": N_("This machine is out of service."),
    "emergency_stopped": N_("Emergency stop: the machine is locked until staff clear it."),
    "machine_in_use": N_("Another member's session is running on this machine until it ends."),
    "not_certified": N_("You are not certified on this machine. Take its safety class first."),
    "certification_expired": N_("Your certification for this machine has expired or was revoked."),
    "local_checkout_missing": N_(
        "This machine needs a check-out by this location's staff, on top of your "
        "certification. Ask the staff here."
    ),
    "no_booking_now": N_("You have no booking on this machine right now. Book it online."),
    "offline_not_listed": N_("Refused offline: the badge had no window on the gate's allow-list."),
    "offline_allowlist_stale": N_("Refused offline: the gate's allow-list was too old to trust."),
    "offline_no_allowlist": N_("Refused offline: the gate had no allow-list."),
}

# The site's sentence for each alarm (`access.models.ALARM_SENTENCES`), word for word.
ALARM_SENTENCES = {
    "current_while_off": N_(
        "Current is flowing while the gate has the relay off: a welded contactor or a bypass. "
        "The machine cannot be switched off by the gate."
    ),
    "relay_stuck_on": N_("The relay reports on after the gate switched it off."),
    "relay_not_on": N_("The relay did not switch on when the gate told it to."),
    "relay_unreachable": N_("The gate could not reach its relay (smart plug offline?)."),
    "meter_failed": N_("The gate gets no power reading from its meter."),
}


class Screen:
    def __init__(
        self,
        display: Display | None,
        zone: tzinfo | None,
        language: gettext.NullTranslations | None = None,
    ) -> None:
        self._display, self._zone = display, zone
        self._language = language or gettext.NullTranslations()
        self._ = self._language.gettext
        # The source language shows the sentences as they came, details and all.
        self._translated = type(self._language) is not gettext.NullTranslations

    def at(self, timestamp: float) -> str:
        """`timestamp` as the wall-clock time at the gate, e.g. 22:00."""
        return datetime.fromtimestamp(timestamp, self._zone).strftime("%H:%M")

    def show(self, line: str) -> None:
        if self._display is None:
            log.info("Display: %s", line)
            return
        try:
            self._display.show(line)
        except Exception:
            log.exception("The display failed to show %r", line)

    def on_until(self, name: str | None, grant_end: int, *, offline: bool) -> None:
        _ = self._
        if name and offline:
            line = _("%(name)s: on until %(time)s (offline)")
        elif name:
            line = _("%(name)s: on until %(time)s")
        elif offline:
            line = _("On until %(time)s (offline)")
        else:
            line = _("On until %(time)s")
        self.show(line % {"name": name, "time": self.at(grant_end)})

    def extended(self, grant_end: int) -> None:
        self.show(self._("Extended: on until %(time)s") % {"time": self.at(grant_end)})

    def ends_soon(self, grant_end: int, now: float) -> None:
        minutes = max(1, round((grant_end - now) / 60))
        line = self._("Switching off at %(time)s (in %(minutes)s min)")
        self.show(line % {"time": self.at(grant_end), "minutes": minutes})

    def idle(self, off_at: float) -> None:
        line = self._("Idle: switching off at %(time)s unless the machine is used")
        self.show(line % {"time": self.at(off_at)})

    def in_use(self, grant_end: int) -> None:
        self.show(self._("In use: on until %(time)s") % {"time": self.at(grant_end)})

    def denied(self, reason: str, message: str = "") -> None:
        """A refused scan: the site's `message` (or the reason code in words)."""
        text = self._sentence(DENIAL_SENTENCES, reason) or message or reason.replace("_", " ")
        self.show(self._("Denied: %(reason)s") % {"reason": text})

    def off(self, reason: str) -> None:
        known = END_SENTENCES.get(reason)
        text = self._(known) if known is not None else reason.replace("_", " ")
        self.show(self._("Off: %(reason)s") % {"reason": text})

    def alarm(self, reason: str, sentence: str) -> None:
        text = self._sentence(ALARM_SENTENCES, reason) or sentence
        self.show(self._("ALARM: %(sentence)s") % {"sentence": text})

    def _sentence(self, sentences: dict[str, str], reason: str) -> str | None:
        """The catalogue's sentence for `reason`, in a language other than the source."""
        known = sentences.get(reason)
        return self._(known) if self._translated and known is not None else None
