"""Gates across sites on real brokers: a location's own Mosquitto bridged over TLS to the central
one, with the files `gate_broker_config` writes. The uplink is cut mid-session and put back: the
gates keep deciding from their allow-lists, and every upload and command gets through after."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from access.bridge import GateBridge
from access.gates import gate_switch_off
from access.location_brokers import location_password, location_username, uplink_config
from access.models import AccessEvent, AccessSource, DeliveryState, GateMessage, UsageSession
from bookings.models import Booking
from equipment.models import Machine
from gate_agent import protocol as p
from gate_agent.config import AgentConfig, BrokerConfig
from gate_agent.hardware.simulated import RecordingIndicator, ScriptedReader, SimulatedRelay
from gate_agent.runner import Runner
from membership.models import Member
from tests.access.conftest import build_scene
from tests.access.mosquitto import Mosquitto, free_port, production_config, wait_for
from tests.access.test_broker import BRIDGE_PASSWORD, Peer, RecordingBridge, running_bridge
from tests.access.uplinks import Cable, TlsFiles, throwaway_tls
from tests.factories.access import DEVICE_MQTT_PASSWORD, GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification
from tests.factories.locations import LocationFactory

pytestmark = pytest.mark.mosquitto
DEADLINE = 30.0


@dataclass
class Chain:
    """The centre's broker (TLS listener for the uplinks, loopback for the site's bridge), one
    location's broker bridged to it through a cable the test can cut, and the files written."""

    central: Mosquitto
    location: Mosquitto
    cable: Cable
    tls: TlsFiles
    files: Path


def write_central(files: Path) -> str:
    call_command(
        "gate_broker_config",
        password_file=files / "central.passwd",
        acl_file=files / "central.acl",
        stdout=io.StringIO(),
    )
    return production_config(password_file=files / "central.passwd", acl_file=files / "central.acl")


def start_chain(tmp_path: Path, slug: str) -> Chain:
    files = tmp_path / "files"
    files.mkdir()
    tls = throwaway_tls(tmp_path / "tls")
    tls_port = free_port()
    central = Mosquitto(
        tmp_path / "central",
        extra_config=write_central(files)
        + f"listener {tls_port} 127.0.0.1\ncafile {tls.ca}\ncertfile {tls.cert}\n"
        f"keyfile {tls.key}\n",
    ).start()
    cable = Cable(tls_port)
    out = files / slug
    call_command(
        "gate_broker_config",
        location=slug,
        out_dir=out,
        central_address=f"127.0.0.1:{cable.port}",
        central_ca_file=str(tls.ca),
        stdout=io.StringIO(),
    )
    # The location's broker: the production settings with its own gates' users and ACL, then
    # the uplink exactly as written, only reconnecting sooner than in production.
    uplink = (
        (out / "zz-toolgate-uplink.conf")
        .read_text()
        .replace("restart_timeout 2 30", "restart_timeout 1 1")
    )
    location = Mosquitto(
        tmp_path / f"location-{slug}",
        extra_config=production_config(
            password_file=out / "toolgate.passwd", acl_file=out / "toolgate.acl"
        )
        + uplink,
    ).start()
    return Chain(central, location, cable, tls, files)


class Agent:
    """A real gate agent with a simulated relay, logged in to its location's broker."""

    def __init__(self, broker: Mosquitto, device, state_dir: Path) -> None:
        self.relay, self.reader = SimulatedRelay(), ScriptedReader()
        config = AgentConfig(
            device_id=device.device_id,
            secret=device.secret,
            state_dir=state_dir,
            request_timeout=1.0,
            heartbeat_seconds=1.0,
            broker=BrokerConfig(
                port=broker.port, username=device.mqtt_username, password=DEVICE_MQTT_PASSWORD
            ),
        )
        self.runner = Runner(
            config, relay=self.relay, reader=self.reader, indicator=RecordingIndicator()
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.runner.run, args=(self._stop,))
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=DEADLINE)


@pytest.fixture
def chain_env(settings, monkeypatch):
    monkeypatch.setenv("GATE_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
    monkeypatch.setenv("GATE_BRIDGE_USERNAMES", "toolgate-bridge")
    settings.GATE_LOCATION_BROKERS = ["raleigh"]


def second_machine(member: Member, booking: Booking, location) -> Machine:
    """Another machine at the same location, which `member` has booked for the same hour."""
    machine = MachineFactory(
        name="Laser cutter 2",
        slug="laser-2",
        location=location,
        required_certification=certification("Laser cutter"),
    )
    BookingFactory(machine=machine, member=member, start=booking.start, end=booking.end)
    return machine


@pytest.mark.django_db(transaction=True)
def test_a_location_cut_off_from_the_centre_keeps_deciding_and_loses_nothing(tmp_path, chain_env):
    raleigh = LocationFactory(slug="raleigh", name="Raleigh", time_zone="America/New_York")
    scene = build_scene(booking_minutes=120)
    Machine.objects.filter(pk=scene.machine.pk).update(location=raleigh)
    other = second_machine(scene.member, scene.booking, raleigh)
    first_gate = GateDeviceFactory(machine=scene.machine)
    second_gate = GateDeviceFactory(machine=other)
    chain = start_chain(tmp_path, "raleigh")
    agents: list[Agent] = []
    try:
        with running_bridge(chain.central.port, bridge=GateBridge()):
            agents = [
                Agent(chain.location, device, tmp_path / f"gate-{n}")
                for n, device in enumerate((first_gate, second_gate))
            ]
            # Over the uplink: each gate's status went up, the centre built its allow-list and
            # the retained list came down to the location's broker and on to the gate.
            for agent in agents:
                wait_for(lambda a=agent: a.runner.agent.allowlist is not None, "allow-lists")
            first, second = agents

            first.reader.scan(scene.badge_uid)
            wait_for(lambda: first.relay.is_on, "the first gate to switch on", deadline=DEADLINE)
            wait_for(UsageSession.objects.exists, "the centre to record the first session")
            assert AccessEvent.objects.filter(
                source=AccessSource.GATE, device=first_gate, allowed=True
            ).exists()

            chain.cable.cut()
            # The uplink is gone, the location's broker is not: the second gate asks, gets no
            # answer and decides from its allow-list; the first gate's session runs on.
            second.reader.scan(scene.badge_uid)
            wait_for(lambda: second.relay.is_on, "the second gate to decide offline")
            assert first.relay.is_on
            # Its upload reached the location's broker, which acknowledged it and holds it.
            wait_for(lambda: not second.runner.agent.unsent_events(), "the upload to be taken")
            assert not AccessEvent.objects.filter(source=AccessSource.OFFLINE).exists()
            # Meanwhile the centre switches the first machine off: the command reaches the
            # central broker, which keeps it for the location.
            gate_switch_off(
                machine=scene.machine, reason="test", message="Switched off during the outage."
            )
            command = GateMessage.objects.get(device=first_gate, action=p.ACTION_SWITCH_OFF)
            wait_for(
                lambda: GateMessage.objects.get(pk=command.pk).state == DeliveryState.DELIVERED,
                "the centre's broker to take the command",
            )
            assert first.relay.is_on

            chain.cable.restore()
            wait_for(
                lambda: AccessEvent.objects.filter(
                    source=AccessSource.OFFLINE, device=second_gate, allowed=True
                ).exists(),
                "the offline decision to be uploaded to the centre",
                deadline=DEADLINE,
            )
            wait_for(lambda: not first.relay.is_on, "the queued switch-off", deadline=DEADLINE)
            wait_for(
                lambda: GateMessage.objects.get(pk=command.pk).state == DeliveryState.ACKNOWLEDGED,
                "the gate's acknowledgement of the switch-off",
                deadline=DEADLINE,
            )
            wait_for(
                lambda: UsageSession.objects.filter(device=second_gate).exists(),
                "the offline session to reach the centre",
            )
            for agent in agents:
                wait_for(lambda a=agent: not a.runner.agent.unsent_events(), "every upload")
    finally:
        for agent in agents:
            agent.close()
        chain.location.stop()
        chain.cable.close()
        chain.central.stop()


@pytest.mark.django_db(transaction=True)
def test_one_locations_credentials_reach_no_other_locations_gates(tmp_path, chain_env, settings):
    """A gate of Menlo Park cannot log in at Raleigh's broker; Menlo Park's uplink user at the
    centre can neither speak for Raleigh's gates nor hear what the centre sends them, and its
    password is not Raleigh's."""
    settings.GATE_LOCATION_BROKERS = ["raleigh", "menlo-park"]
    raleigh = LocationFactory(slug="raleigh", name="Raleigh", time_zone="America/New_York")
    menlo = LocationFactory(slug="menlo-park", name="Menlo Park")
    theirs = GateDeviceFactory(machine=MachineFactory(location=raleigh))
    mine = GateDeviceFactory(machine=MachineFactory(location=menlo))
    chain = start_chain(tmp_path, "raleigh")
    peers: list[Peer] = []
    try:
        assert not Peer(chain.location.port, mine.mqtt_username, DEVICE_MQTT_PASSWORD).accepted
        assert not Peer(
            chain.central.port, location_username("raleigh"), location_password("menlo-park")
        ).accepted
        menlo_uplink = Peer(
            chain.central.port, location_username("menlo-park"), location_password("menlo-park")
        )
        peers.append(menlo_uplink)
        assert menlo_uplink.accepted
        menlo_uplink.subscribe(f"{p.TOPIC_PREFIX}/#")
        recording = RecordingBridge()
        with running_bridge(chain.central.port, bridge=recording):
            own = p.gate_topic(mine.device_id, p.Topic.HEARTBEAT)
            menlo_uplink.publish(p.gate_topic(theirs.device_id, p.Topic.EVENTS), b"forged")
            menlo_uplink.publish(p.gate_topic(theirs.device_id, p.Topic.REQUEST), b"forged")
            menlo_uplink.publish(own, b"marker")
            wait_for(lambda: own in [t for t, _ in recording.got], "its own gate's heartbeat")
            assert [payload for _, payload in recording.got] == [b"marker"]

            bridge = Peer(chain.central.port, "toolgate-bridge-events", BRIDGE_PASSWORD)
            peers.append(bridge)
            bridge.publish(p.gate_topic(theirs.device_id, p.Topic.COMMAND), b"for raleigh")
            bridge.publish(p.gate_topic(mine.device_id, p.Topic.COMMAND), b"for menlo")
            wait_for(lambda: menlo_uplink.received, "the command for its own gate")
            assert [payload for _, payload in menlo_uplink.received] == [b"for menlo"]
    finally:
        for peer in peers:
            peer.close()
        chain.location.stop()
        chain.cable.close()
        chain.central.stop()


@pytest.mark.django_db(transaction=True)
def test_the_centre_keeps_what_it_sends_a_location_while_the_uplink_is_down(tmp_path, chain_env):
    """Published once at the centre during the outage, delivered once the uplink is back: the
    location's bridge has a persistent session there (the outbox's re-sends are not needed)."""
    raleigh = LocationFactory(slug="raleigh", name="Raleigh", time_zone="America/New_York")
    device = GateDeviceFactory(machine=MachineFactory(location=raleigh))
    chain = start_chain(tmp_path, "raleigh")
    command = p.gate_topic(device.device_id, p.Topic.COMMAND)
    at_gate = Peer(chain.location.port, device.mqtt_username, DEVICE_MQTT_PASSWORD)
    site = Peer(chain.central.port, "toolgate-bridge", BRIDGE_PASSWORD)
    try:
        at_gate.subscribe(command)
        end = time.monotonic() + DEADLINE
        while not at_gate.received:  # the uplink is up and subscribed at the centre
            assert time.monotonic() < end, "the uplink never came up"
            site.publish(command, b"probe")
            time.sleep(0.1)
        chain.cable.cut()
        wait_for(lambda: _uplink_down(chain), "the location broker to notice the cut")
        site.publish(command, b"sent once, during the outage")
        chain.cable.restore()
        wait_for(
            lambda: (command, b"sent once, during the outage") in at_gate.received,
            "the queued command to reach the gate",
            deadline=DEADLINE,
        )
    finally:
        at_gate.close()
        site.close()
        chain.location.stop()
        chain.cable.close()
        chain.central.stop()


def _uplink_down(chain: Chain) -> bool:
    """The central broker's log says the location's connection ended."""
    return any(
        "location-raleigh" in line
        and any(word in line for word in ("closed its connection", "disconnect"))
        for line in chain.central.log.read_text(errors="replace").splitlines()
    )


def test_the_uplink_carries_scans_now_or_never_and_uploads_for_sure():
    config = uplink_config(slug="raleigh", central_address="mqtt.example.org:8883", ca_file="/ca")
    assert "topic toolgate/v1/gates/+/request out 0" in config
    assert "topic toolgate/v1/gates/+/events out 1" in config
    assert "topic toolgate/v1/gates/+/allowlist in 1" in config
    assert "cleansession false" in config
    assert f"remote_password {location_password('raleigh')}" in config
    assert location_password("raleigh") != location_password("menlo-park")


@pytest.mark.django_db
def test_the_centre_knows_a_location_broker_not_its_gates(tmp_path, chain_env, settings):
    settings.GATE_LOCATION_BROKERS = ["raleigh"]
    raleigh = LocationFactory(slug="raleigh", time_zone="America/New_York")
    elsewhere = LocationFactory(slug="menlo-park")
    local = GateDeviceFactory(device_id="raleigh-laser", machine=MachineFactory(location=raleigh))
    GateDeviceFactory(device_id="menlo-laser", machine=MachineFactory(location=elsewhere))
    write_central(tmp_path)
    users = [line.split(":")[0] for line in (tmp_path / "central.passwd").read_text().splitlines()]
    assert users == [
        "toolgate-bridge",
        "toolgate-bridge-events",
        "location-raleigh",
        "gate-menlo-laser",
    ]
    acl = (tmp_path / "central.acl").read_text()
    assert "user location-raleigh\ntopic write toolgate/v1/gates/raleigh-laser/request" in acl
    assert "menlo-laser" not in acl.split("user location-raleigh")[1].split("user gate-")[0]

    call_command(
        "gate_broker_config",
        location="raleigh",
        out_dir=tmp_path / "raleigh",
        central_address="mqtt.example.org:8883",
        stdout=io.StringIO(),
    )
    assert (
        (tmp_path / "raleigh" / "toolgate.passwd").read_text().startswith(f"{local.mqtt_username}:")
    )
    assert oct((tmp_path / "raleigh" / "zz-toolgate-uplink.conf").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(CommandError, match="not in GATE_LOCATION_BROKERS"):
        call_command(
            "gate_broker_config",
            location="menlo-park",
            out_dir=tmp_path / "menlo",
            central_address="mqtt.example.org:8883",
        )
