"""The wire format: round trips, canonical signing, and refusing anything not authentic."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from gate_agent import protocol as p

from .conftest import DEVICE, SECRET, T0, UID

OTHER_SECRET = "another-device-secret-0123456789"
# The secret of the signed examples in docs/gate-protocol.md.
DOC_SECRET = "example-secret-do-not-use-0123456789abcdef"


def request() -> p.BadgeRequest:
    return p.sign(
        p.BadgeRequest(device_id=DEVICE, nonce="n" * 22, badge_uid=UID, sent_at=T0, firmware="1"),
        SECRET,
    )


def every_message() -> list[p.Message]:
    entry = p.allowlist_entry(badge_uid=UID, window_start=T0, window_end=T0 + 60, secret=SECRET)
    event = p.GateEvent(
        id="e" * 22,
        kind=p.EVENT_OFFLINE_DECISION,
        at=T0,
        reason="offline_allowlist",
        session_id=None,
        badge_uid=UID,
        allowed=True,
        grant_end=T0 + 60,
    )
    heartbeat = p.Heartbeat(
        device_id=DEVICE, sent_at=T0, firmware="1", uptime=5, relay_on=False, phase="idle",
        grant_end=None, allowlist_version=3, unsent_events=0,
    )  # fmt: skip
    return [
        request(),
        p.build_reply(
            request(),
            secret=SECRET,
            allowed=True,
            reason="allowed_booking",
            message="Hi Zoë",
            now=T0,
            member_name="Zoë",
            grant_end=T0 + 3600,
        ),
        p.build_reply(
            request(), secret=SECRET, allowed=False, reason="no_booking", message="", now=T0
        ),
        p.build_command(
            device_id=DEVICE, secret=SECRET, action=p.ACTION_SWITCH_OFF, reason="x", now=T0
        ),
        p.build_command(
            device_id=DEVICE,
            secret=SECRET,
            action=p.ACTION_SWITCH_OFF,
            reason="x",
            now=T0,
            only_badges=["04A32B1C", "0499AABBCCDDEE"],
        ),
        p.build_command(
            device_id=DEVICE,
            secret=SECRET,
            action=p.ACTION_EXTEND,
            reason="x",
            now=T0,
            grant_end=T0 + 60,
        ),
        p.build_allowlist(
            device_id=DEVICE, secret=SECRET, version=1, now=T0, valid_until=T0 + 60, entries=[entry]
        ),
        p.Status(device_id=DEVICE, state=p.STATUS_ONLINE, firmware="1"),
        p.sign(heartbeat, SECRET),
        p.sign(p.EventBatch(device_id=DEVICE, sent_at=T0, events=(event,)), SECRET),
        p.sign(
            p.Ack(device_id=DEVICE, sent_at=T0, command_ids=("c" * 22,), allowlist_version=3),
            SECRET,
        ),
    ]


@pytest.mark.parametrize("message", every_message(), ids=lambda m: m.TYPE)
def test_round_trip(message):
    parsed = type(message).from_json(message.to_json())
    assert parsed == message
    assert json.loads(message.to_json())["v"] == p.MESSAGE_VERSION
    if message.SIGNED:
        assert p.verify(parsed, SECRET)
        assert p.parse_signed(type(message), message.to_json(), device_id=DEVICE, secret=SECRET)


def test_canonical_form_is_sorted_compact_ascii_and_excludes_sig():
    reply = every_message()[1]
    canonical = p.canonical_bytes(reply)
    assert b'"sig"' not in canonical and b" " not in canonical.replace(b"Hi Zo", b"")
    assert canonical.startswith(b'{"allowed":true,"device_id":"laser-1",')
    assert b"Zo\\u00eb" in canonical
    body = json.loads(canonical)
    assert list(body) == sorted(body)
    assert (body["type"], body["v"]) == ("reply", 1)


def test_signature_does_not_depend_on_wire_key_order_or_spacing():
    reply = every_message()[1]
    shuffled = json.dumps(dict(reversed(list(reply.to_dict().items()))), indent=2).encode()
    assert p.parse_signed(p.AccessReply, shuffled, device_id=DEVICE, secret=SECRET) == reply


@pytest.mark.parametrize(
    "spoil",
    [
        lambda m: p.sign(m, OTHER_SECRET),
        lambda m: dataclasses.replace(m, sig=""),
        lambda m: dataclasses.replace(m, grant_end=m.grant_end + 1),
        lambda m: (
            dataclasses.replace(m, allowed=True, reason="allowed_booking")
            if not m.allowed
            else dataclasses.replace(m, member_name="Mallory")
        ),
    ],
    ids=["forged", "unsigned", "tampered-grant", "tampered-field"],
)
def test_forged_or_tampered_reply_fails_verification(spoil):
    spoiled = spoil(every_message()[1])
    assert not p.verify(spoiled, SECRET)
    with pytest.raises(p.ProtocolError):
        p.parse_signed(p.AccessReply, spoiled.to_json(), device_id=DEVICE, secret=SECRET)


def test_reply_for_another_device_is_refused_even_if_signed_with_this_secret():
    other = p.sign(dataclasses.replace(every_message()[1], device_id="lathe-2"), SECRET)
    with pytest.raises(p.ProtocolError, match="device"):
        p.parse_signed(p.AccessReply, other.to_json(), device_id=DEVICE, secret=SECRET)


def test_signature_is_bound_to_the_device_id():
    reply = every_message()[1]
    moved = dataclasses.replace(reply, device_id="lathe-2")  # keeps the old signature
    assert not p.verify(moved, SECRET)


def test_signature_is_bound_to_the_message_type():
    """A switch-off command's signed body cannot be passed off as a reply, or vice versa."""
    command = every_message()[3]
    as_reply = {**command.to_dict(), "type": "reply"}
    with pytest.raises(p.ProtocolError):
        p.parse_signed(p.AccessReply, json.dumps(as_reply), device_id=DEVICE, secret=SECRET)
    with pytest.raises(p.ProtocolError, match="expected a 'reply'"):
        p.AccessReply.from_json(command.to_json())


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'"text"',
        b"{}",
        b'{"v":1}',
        b'{"v":2,"type":"reply"}',
        b'{"v":"1","type":"reply"}',
        b'{"v":true,"type":"reply"}',
        b'{"v":1,"type":"reply","device_id":"laser-1"}',
        b'{"v":1,"type":"request","device_id":"x","nonce":NaN}',
        b"[" * 100_000,
        b'{"a":"' + b"x" * (p.MAX_PAYLOAD_BYTES + 1) + b'"}',
    ],
)
def test_garbage_raises_protocol_error(payload):
    for cls in p.MESSAGE_TYPES.values():
        with pytest.raises(p.ProtocolError):
            cls.from_json(payload)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("grant_end", "soon"),
        ("grant_end", 1.5),
        ("grant_end", True),
        ("grant_end", 10),
        ("grant_end", None),  # allowed without a grant end
        ("allowed", 1),
        ("nonce", "short"),
        ("nonce", "../../../etc/passwd......"),
        ("reason", "Not A Code"),
        ("member_name", 42),
        ("member_name", "\ud800"),
        ("sig", "ABC"),
        ("device_id", "laser/+/#"),
        ("extra", 1),
    ],
)
def test_wrong_types_and_formats_raise_protocol_error(field, value):
    body = every_message()[1].to_dict()
    body[field] = value
    with pytest.raises(p.ProtocolError):
        p.AccessReply.from_dict(body)


@pytest.mark.parametrize(
    ("action", "grant_end", "badge_hashes"),
    [
        (p.ACTION_SWITCH_OFF, None, ["04A32B1C"]),  # raw UIDs never travel in commands
        (p.ACTION_SWITCH_OFF, None, "a" * 64),
        (p.ACTION_SWITCH_OFF, None, ["a" * 64] * 21),
    ],
)
def test_commands_about_badges_carry_only_their_hashes(action, grant_end, badge_hashes):
    command = p.build_command(
        device_id=DEVICE, secret=SECRET, action=action, reason="x", now=T0, grant_end=grant_end
    )
    body = command.to_dict() | {"badge_hashes": badge_hashes}
    with pytest.raises(p.ProtocolError, match="badge_hashes"):
        p.Command.from_dict(body)


def test_missing_field_raises_protocol_error():
    body = every_message()[1].to_dict()
    del body["expires_at"]
    with pytest.raises(p.ProtocolError, match="missing"):
        p.AccessReply.from_dict(body)


def test_badge_uid_must_be_canonical_in_requests():
    body = request().to_dict()
    body["badge_uid"] = "04:a3:2b:1c"
    with pytest.raises(p.ProtocolError, match="canonical"):
        p.BadgeRequest.from_dict(body)


def test_topics_and_shared_subscriptions():
    assert p.gate_topic(DEVICE, p.Topic.REQUEST) == "toolgate/v1/gates/laser-1/request"
    assert p.parse_topic("toolgate/v1/gates/laser-1/reply") == (DEVICE, p.Topic.REPLY)
    assert p.BRIDGE_REQUEST_SUBSCRIPTION == "$share/toolgate-bridge/toolgate/v1/gates/+/request"
    assert set(p.BRIDGE_SUBSCRIPTIONS) == {
        f"$share/toolgate-bridge/toolgate/v1/gates/+/{kind}"
        for kind in ("request", "heartbeat", "events", "status", "ack")
    }
    for bad in ("toolgate/v1/gates/+/reply", "toolgate/v2/gates/a/reply", "x", "a/b/c/d/e/f/g"):
        with pytest.raises(p.ProtocolError):
            p.parse_topic(bad)
    with pytest.raises(p.ProtocolError):
        p.gate_topic("a/#", p.Topic.REPLY)


def test_device_secrets_are_256_random_bits_as_url_safe_text():
    """A new secret is 32 random bytes in unpadded base64url: 43 characters, fit for a TOML file."""
    first, second = p.new_device_secret(), p.new_device_secret()
    assert first != second
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first) and re.fullmatch(r"[A-Za-z0-9_-]{43}", second)


SHORT_SECRET = r"^a device secret of at least 16 characters is required$"


@pytest.mark.parametrize("secret", ["", "x", "y" * 15, None, b"z" * 32], ids=repr)
def test_a_short_or_missing_secret_signs_and_hashes_nothing(secret):
    """A secret under 16 characters (or not text) would make signatures forgeable: refused."""
    with pytest.raises(ValueError, match=SHORT_SECRET):
        p.sign(request(), secret)
    with pytest.raises(ValueError, match=SHORT_SECRET):
        p.verify(request(), secret)
    with pytest.raises(ValueError, match=SHORT_SECRET):
        p.allowlist_badge_hash(UID, secret)


def test_a_secret_of_16_characters_is_enough():
    secret = "k" * 16
    assert p.verify(p.sign(request(), secret), secret)
    assert p.allowlist_badge_hash(UID, secret) != p.allowlist_badge_hash(UID, "k" * 17)


def test_allowlist_hash_is_per_device_secret_and_reader_format_independent():
    assert p.allowlist_badge_hash("04:a3:2b:1c", SECRET) == p.allowlist_badge_hash(UID, SECRET)
    assert p.allowlist_badge_hash(UID, SECRET) != p.allowlist_badge_hash(UID, OTHER_SECRET)


def test_allowlist_badge_hash_known_answer():
    """HMAC-SHA256 of the canonical UID under HMAC-SHA256(secret, "toolgate/v1 allow-list badge
    hash"): the hash docs/gate-protocol.md's examples carry for badge 04A32B1C. Gates and sites of
    different releases must compute the same value, or offline lists match nobody."""
    assert (
        p.allowlist_badge_hash("04:a3:2b:1c", DOC_SECRET)
        == "05b3c27ef90d51e89de2db1fe24886fe656213432529e1c172fd4da46c31bc1b"
    )
    assert (
        p.allowlist_badge_hash("0499AABBCCDDEE", DOC_SECRET)
        == "7ebe22890cefce842598ba0ed2df6a0404b36dc2cf0ceeb3d3f50415b108f958"
    )


def test_an_unsigned_message_type_never_verifies_and_cannot_be_signed():
    """A status (presence only, unsigned) is never taken as an authentic site message."""
    status = p.Status(device_id=DEVICE, state=p.STATUS_ONLINE, firmware="1")
    assert not p.verify(status, SECRET)
    with pytest.raises(p.SignatureError):
        p.parse_signed(p.Status, status.to_json(), device_id=DEVICE, secret=SECRET)
    with pytest.raises(TypeError, match=r"^status messages are not signed$"):
        p.sign(status, SECRET)


def test_a_forged_reply_is_refused_for_its_signature():
    """The agent logs why it refused a message: a forged one says so."""
    forged = p.sign(every_message()[1], OTHER_SECRET)
    with pytest.raises(p.SignatureError, match=r"^reply message has a bad signature$"):
        p.parse_signed(p.AccessReply, forged.to_json(), device_id=DEVICE, secret=SECRET)


def test_documented_examples_are_valid_signed_messages():
    """docs/gate-protocol.md shows real messages: each parses and verifies with its secret."""
    from pathlib import Path

    doc = Path(__file__).parents[2] / "docs" / "gate-protocol.md"
    blocks = re.findall(r"```json\n(.*?)\n```", doc.read_text(), re.S)
    seen = set()
    for block in blocks:
        body = json.loads(block)
        message = p.MESSAGE_TYPES[body["type"]].from_dict(body)
        assert not message.SIGNED or p.verify(message, DOC_SECRET)
        seen.add(message.TYPE)
    assert seen == set(p.MESSAGE_TYPES)


def _end_event(**fields) -> p.GateEvent:
    values = {
        "id": "e" * 22,
        "kind": p.EVENT_SESSION_END,
        "at": T0,
        "reason": "idle_timeout",
        "session_id": "s" * 22,
        "badge_uid": UID,
        "allowed": None,
        "grant_end": None,
        **fields,
    }
    return p.GateEvent(**values)


def test_busy_seconds_is_sent_only_when_set_so_older_events_sign_as_before():
    without = _end_event()
    assert "busy_seconds" not in without.to_dict()
    assert p.GateEvent.from_dict(without.to_dict()) == without
    busy = _end_event(busy_seconds=420)
    assert busy.to_dict()["busy_seconds"] == 420
    batch = p.sign(p.EventBatch(device_id=DEVICE, sent_at=T0, events=(busy, without)), SECRET)
    parsed = p.parse_signed(p.EventBatch, batch.to_json(), device_id=DEVICE, secret=SECRET)
    assert parsed.events == (busy, without)


@pytest.mark.parametrize("value", [-1, 7 * 24 * 3600 + 1, 1.5, True, "60"])
def test_busy_seconds_out_of_range_or_not_an_integer_is_refused(value):
    data = {**_end_event().to_dict(), "busy_seconds": value}
    with pytest.raises(p.ProtocolError, match="busy_seconds"):
        p.GateEvent.from_dict(data)


def test_alarm_events_parse():
    alarm = _end_event(kind=p.EVENT_ALARM, reason="current_while_off", session_id=None)
    assert p.GateEvent.from_dict(alarm.to_dict()) == alarm
