"""Where a gate decision's time goes, in the bridge's own process: no broker, no network.

    .venv/bin/python bench/gate_profile.py [--scans 2000] [--devices 50]

On PostgreSQL database `toolgate_bench` (recreated; BENCH_PG_NAME names another), with the gates
of `bench/gate_latency.py`. Times `GateBridge.handle` on one signed badge request at a time (what
a quiet shop's bridge does per scan: verify, decide, log, sign the reply) and, inside it, the
gathering of the facts; counts the statements each decision sends to the database.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return f"p50 {at(0.5):.2f} ms, p95 {at(0.95):.2f} ms, p99 {at(0.99):.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=50)
    args = parser.parse_args()

    import _django

    _django.setup("postgres")
    from collections import Counter

    from django.db import connection
    from gate_latency import bench_gates, gate_request

    from access import services
    from access.bridge import GateBridge
    from gate_agent import protocol as p

    gates = bench_gates(args.devices)

    def signed_request(scan: int) -> tuple[str, bytes]:
        topic, request = gate_request(gates, scan)
        return topic, request.to_json()

    gathering: list[float] = []
    real_gather = services.gather_facts_many

    def timed_gather(scans):
        started = time.perf_counter()
        try:
            return real_gather(scans)
        finally:
            gathering.append((time.perf_counter() - started) * 1000)

    services.gather_facts_many = timed_gather  # type: ignore[assignment]

    statements: Counter[str] = Counter()

    def count(execute, sql, params, many, context):
        statements[sql.split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    bridge = GateBridge()
    for scan in range(len(gates)):  # each booking's first scan checks it in
        bridge.handle(*signed_request(scan))
    gathering.clear()
    handling: list[float] = []
    reasons: Counter[str] = Counter()
    with connection.execute_wrapper(count):
        for scan in range(args.scans):
            topic, payload = signed_request(scan)
            started = time.perf_counter()
            [(_, reply, _)] = bridge.handle(topic, payload)
            handling.append((time.perf_counter() - started) * 1000)
            reasons[p.AccessReply.from_json(reply).reason] += 1
    per_decision = {kind: round(n / args.scans, 2) for kind, n in statements.items()}

    print(f"{args.scans} scans, one at a time, across {len(gates)} gates: {dict(reasons)}")
    print(f"  GateBridge.handle: {percentiles(handling)}")
    print(f"  gathering the facts: {percentiles(gathering)}")
    print(f"  statements per decision: {sum(per_decision.values()):.2f} {per_decision}")


if __name__ == "__main__":
    main()
