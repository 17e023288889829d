"""The agent's check of every site message: freshness with a tolerated clock skew, replay, and
the blind window after a lost replay cache. The reasons are what the gate's log says."""

from __future__ import annotations

import dataclasses
import json
import logging
import re

import pytest

from gate_agent import protocol as p
from gate_agent.guard import Duplicate, MessageGuard, Rejected, ReplayCache

from .conftest import DEVICE, SECRET, T0, UID, FakeClock

SKEW, MAX_TTL = p.CLOCK_SKEW, p.MAX_MESSAGE_TTL


def reply(*, issued_at: int = T0, lifetime: int = p.REPLY_TTL, nonce: str = "n" * 22, **fields):
    request = p.BadgeRequest(
        device_id=DEVICE, nonce=nonce, badge_uid=UID, sent_at=issued_at, firmware="1"
    )
    built = p.build_reply(
        request,
        secret=SECRET,
        allowed=True,
        reason="allowed_booking",
        message="Hi",
        now=issued_at,
        grant_end=issued_at + 3600,
    )
    return p.sign(dataclasses.replace(built, expires_at=issued_at + lifetime, **fields), SECRET)


def guard_at(now: float, tmp_path, clock: FakeClock | None = None) -> MessageGuard:
    clock = clock or FakeClock(now)
    replay = ReplayCache(tmp_path / "replay.json", clock)
    return MessageGuard(device_id=DEVICE, secret=SECRET, replay=replay, clock=clock)


@pytest.mark.parametrize(
    ("lifetime", "now", "refusal"),
    [
        (p.REPLY_TTL, T0 - SKEW, None),  # the gate's clock up to 30 s behind the site's
        (p.REPLY_TTL, T0 - SKEW - 1, "issued in the future (is the clock right?)"),
        (p.REPLY_TTL, T0 + p.REPLY_TTL + SKEW, None),  # or up to 30 s ahead
        (p.REPLY_TTL, T0 + p.REPLY_TTL + SKEW + 1, "expired"),
        (MAX_TTL, T0, None),
        (MAX_TTL + 1, T0, f"lifetime over {MAX_TTL}s"),
        (0, T0, None),
        (-1, T0, "expires before it was issued"),
    ],
)
def test_a_reply_is_fresh_within_its_lifetime_and_the_clock_skew(tmp_path, lifetime, now, refusal):
    payload = reply(lifetime=lifetime).to_json()
    guard = guard_at(now, tmp_path)
    if refusal is None:
        assert guard.open_once(p.AccessReply, payload).nonce == "n" * 22
    else:
        with pytest.raises(Rejected, match=f"^{re.escape(refusal)}$"):
            guard.open_once(p.AccessReply, payload)


def test_a_forged_message_is_refused_for_its_signature(tmp_path):
    forged = p.sign(reply(), "another-device-secret-0123456789")
    with pytest.raises(Rejected, match=r"^reply message has a bad signature$"):
        guard_at(T0, tmp_path).open_once(p.AccessReply, forged.to_json())


def test_only_replies_and_commands_are_checked_for_freshness(tmp_path):
    allowlist = p.build_allowlist(
        device_id=DEVICE, secret=SECRET, version=1, now=T0, valid_until=T0 + 60, entries=[]
    )
    with pytest.raises(TypeError, match=r"^allowlist messages carry no expiry$"):
        guard_at(T0, tmp_path).open_once(p.AllowList, allowlist.to_json())


def test_an_applied_reply_again_is_a_duplicate_and_another_with_its_nonce_is_refused(tmp_path):
    """The same bytes again (MQTT redelivers) change nothing; a different reply reusing the
    nonce is a replay, before and after the agent restarts."""
    first = reply().to_json()
    guard = guard_at(T0, tmp_path)
    guard.consume(guard.open_once(p.AccessReply, first), first)
    other = reply(message="Hi again").to_json()
    for current in (guard, guard_at(T0, tmp_path)):  # the second reads the cache from disk
        with pytest.raises(Duplicate):
            current.open_once(p.AccessReply, first)
        with pytest.raises(Rejected, match=rf"^replayed message reply:{'n' * 22}$"):
            current.open_once(p.AccessReply, other)


def test_an_applied_reply_is_remembered_as_long_as_it_could_pass_as_fresh(tmp_path):
    """At its expiry plus the skew a reply still passes the freshness check, so it must still be
    known as applied then, even after other messages were remembered meanwhile."""
    clock = FakeClock(T0)
    guard = guard_at(T0, tmp_path, clock)
    first = reply().to_json()
    guard.consume(guard.open_once(p.AccessReply, first), first)
    clock.now = T0 + p.REPLY_TTL + SKEW
    later = reply(issued_at=int(clock.now), nonce="m" * 22).to_json()
    guard.consume(guard.open_once(p.AccessReply, later), later)
    with pytest.raises(Duplicate):
        guard.open_once(p.AccessReply, first)


def test_a_lost_replay_cache_refuses_everything_until_old_messages_expired(tmp_path, caplog):
    """Nobody knows which replies were used: every reply is refused until anything issued before
    could no longer pass as fresh (its longest lifetime and the skew both ways), then accepted."""
    (tmp_path / "replay.json").write_text("[1]")
    clock = FakeClock(T0)
    with caplog.at_level(logging.ERROR, logger="gate_agent.guard"):
        guard = guard_at(T0, tmp_path, clock)
    assert caplog.messages == [
        f"Replay cache {tmp_path / 'replay.json'} unreadable ('list' object has no attribute "
        "'items'); refusing messages for a while"
    ]
    blind_until = T0 + MAX_TTL + 2 * SKEW
    clock.now = blind_until - 1
    with pytest.raises(
        Rejected, match=r"^replay cache was lost; refusing messages until old ones expire$"
    ):
        guard.open_once(p.AccessReply, reply(issued_at=int(clock.now)).to_json())
    clock.now = blind_until
    assert guard.open_once(p.AccessReply, reply(issued_at=blind_until).to_json())


def test_a_replay_cache_file_holds_ids_with_their_expiry_and_digest(tmp_path):
    """What survives a restart: each applied id until its expiry plus the skew."""
    guard = guard_at(T0, tmp_path)
    payload = reply().to_json()
    guard.consume(guard.open_once(p.AccessReply, payload), payload)
    saved = json.loads((tmp_path / "replay.json").read_text())
    assert list(saved) == [f"reply:{'n' * 22}"]
    assert saved[f"reply:{'n' * 22}"][0] == T0 + p.REPLY_TTL + SKEW
