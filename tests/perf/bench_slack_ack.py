"""Acknowledgement latency of `/book` one-liners under 20 concurrent signed requests.

Run: .venv/bin/python -m tests.perf.bench_slack_ack [--requests 20] [--rounds 5]

HTTP mode on a free port, a real SQLite database, the local Web API of
tests/slack/harness.py. Prints p50/p99 of the time from sending a signed
request to Slack's answer (the acknowledgement); Slack allows 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.slack.harness import slack_world

SLACK_LIMIT_S = 3.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="concurrent requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder, slack_world(Path(folder)) as world:
        users = [f"UMEMBER{n:02d}" for n in range(args.requests)]
        for n, user in enumerate(users):
            world.booking.service.add_account(f"member{n:02d}", slack_id=user)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.requests) as pool:
            for round_number in range(args.rounds):
                # Each round books a later day, so every member's one-liner is booked.
                text = f"1 cpus 1g 0 gpus in {round_number + 1} days for 1-day"
                sent = pool.map(lambda user, t=text: world.slack.command(user, "/book", t), users)
                for posted in sent:
                    assert posted.status == 200, posted
                    latencies.append(posted.seconds)
        total = args.requests * args.rounds
        world.api.wait_for("response_url", count=total, timeout=120)
        done = time.perf_counter() - began
        booked = sum(c.args.get("text", "").startswith("Booked") for c in world.api.of("response_url"))
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"/book one-liners: {args.rounds} rounds x {args.requests} concurrent signed requests")
    print(f"ack latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms "
          f"(Slack's limit {SLACK_LIMIT_S * 1000:.0f} ms)")
    print(f"all {total} answered in {done:.1f} s; {booked} booked")
    return 0 if p99 < SLACK_LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
