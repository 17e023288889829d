"""Badge-to-relay latency over real Mosquitto, and decisions per second of one bridge.

    .venv/bin/python bench/gate_latency.py [--scans 1000] [--devices 50] [--broker mqtt://127.0.0.1:1883]

On PostgreSQL database `toolgate_bench` (recreated). Each simulated gate publishes a signed badge
request and waits for the bridge's signed reply, which it verifies as the agent does before it
switches the relay: publish-to-verified-reply is the badge-to-relay-on latency (the agent's own
work after that is a GPIO write). Then the same kind of requests go straight through one bridge's
handler, without the broker, to count the decisions per second one bridge process can make.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPLY_TIMEOUT = 5.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    args = parser.parse_args()
    os.environ["GATE_BROKER_URL"] = args.broker

    import _django

    _django.setup("postgres")
    from datetime import timedelta

    from django.utils import timezone

    from access.bridge import BridgeRunner, GateBridge
    from access.mqtt import BrokerSettings, make_client
    from access.services import gate_device_register
    from bookings.models import Booking, BookingState
    from equipment.models import Machine
    from gate_agent import protocol as p
    from training.models import Certification, MemberCertification

    laser = Certification.objects.create(name="Laser cutter", slug="laser-cutter")
    now = timezone.now()
    gates = []
    for index, member in enumerate(_django.ready_members(args.devices, prefix="gate")):
        machine = Machine.objects.create(
            name=f"Bench laser {index}", slug=f"bench-laser-{index}", required_certification=laser
        )
        MemberCertification.objects.create(
            member=member, certification=laser, granted_by=member.user
        )
        Booking.objects.create(
            machine=machine,
            member=member,
            start=now - timedelta(minutes=5),
            end=now + timedelta(hours=2),
            blocked_until=now + timedelta(hours=2),
            state=BookingState.CONFIRMED,
        )
        device = gate_device_register(machine=machine, device_id=f"bench-{index}").device
        gates.append((device, member.badges.get().uid))

    def signed_request(device, uid) -> p.BadgeRequest:
        return p.sign(
            p.BadgeRequest(
                device_id=device.device_id,
                nonce=p.new_nonce(),
                badge_uid=uid,
                sent_at=int(time.time()),
                firmware="bench",
            ),
            device.secret,
        )

    # 1. Over the broker: gate -> Mosquitto -> bridge (PostgreSQL) -> Mosquitto -> gate.
    broker = BrokerSettings.from_settings()
    runner = BridgeRunner(GateBridge(), broker, client_id="toolgate-bench-bridge")
    bridge_thread = threading.Thread(target=runner.run, kwargs={"housekeeping_seconds": 3600})
    bridge_thread.start()
    if not runner.connected.wait(10):
        sys.exit(f"the bridge could not connect to {args.broker}")

    secrets = {device.device_id: device.secret for device, _ in gates}
    arrived: dict[str, tuple[float, p.AccessReply]] = {}
    replied = threading.Condition()

    def on_message(client, userdata, message) -> None:
        device_id, _ = p.parse_topic(message.topic)
        reply = p.parse_signed(
            p.AccessReply, message.payload, device_id=device_id, secret=secrets[device_id]
        )
        with replied:
            arrived[reply.nonce] = (time.perf_counter(), reply)
            replied.notify_all()

    subscribed = threading.Event()
    gate_client = make_client(broker, client_id="toolgate-bench-gates")
    gate_client.on_message = on_message
    gate_client.on_subscribe = lambda *args: subscribed.set()
    gate_client.connect(broker.host, broker.port)
    gate_client.loop_start()
    gate_client.subscribe(f"{p.TOPIC_PREFIX}/+/{p.Topic.REPLY.value}", qos=1)
    subscribed.wait(10)

    latencies_ms: list[float] = []
    reasons: Counter[str] = Counter()
    started_all = time.perf_counter()
    for scan in range(args.scans):
        device, uid = gates[scan % len(gates)]
        request = signed_request(device, uid)
        sent = time.perf_counter()
        gate_client.publish(
            p.gate_topic(device.device_id, p.Topic.REQUEST), request.to_json(), qos=1
        )
        with replied:
            if not replied.wait_for(lambda n=request.nonce: n in arrived, timeout=REPLY_TIMEOUT):
                reasons["no reply in time"] += 1
                continue
            at, reply = arrived.pop(request.nonce)
        latencies_ms.append((at - sent) * 1000)
        reasons[reply.reason] += 1
    over_broker_s = time.perf_counter() - started_all
    runner.stop()
    bridge_thread.join()
    gate_client.disconnect()
    gate_client.loop_stop()

    # 2. One bridge's handler alone (decide, log, check in, sign), without the broker.
    bridge = GateBridge()
    prepared = [
        (p.gate_topic(device.device_id, p.Topic.REQUEST), signed_request(device, uid).to_json())
        for device, uid in (gates[i % len(gates)] for i in range(args.scans))
    ]
    handled = time.perf_counter()
    for topic, payload in prepared:
        bridge.handle(topic, payload)
    per_second = len(prepared) / (time.perf_counter() - handled)

    p50, _ = _django.percentiles(latencies_ms)
    ordered = sorted(latencies_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(f"{args.scans} scans across {len(gates)} gates over {args.broker}: {dict(reasons)}")
    print(f"badge-to-relay-on latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 50 ms)")
    print(f"sequential scans over the broker: {len(latencies_ms) / over_broker_s:.0f}/s")
    print(f"one bridge's handler: {per_second:.0f} decisions/s (target > 1,000/s)")


if __name__ == "__main__":
    main()
