"""A randomised soak (sync-reference §7 H40), small enough for every run of the suite.

Three devices, each with its own user and its own fault-injecting proxy, sync with one
central for a number of rounds. Each round every device completes 0 to 3 visits and syncs (the
three at once); the proxies get a random plan (lose the request, lose the response, deliver
twice, reset, delay); sometimes a device's sync is SIGKILLed at a labelled point, and now and
then central is SIGKILLed inside a push and restarted. Then the faults stop, every device
syncs until it has nothing left to send, and the invariants are checked for each device.

The plan comes from a fixed seed (``HMOT_SOAK_SEED`` and ``HMOT_SOAK_ROUNDS`` override it for
a longer run), printed with a summary of the faults injected, so a failure can be replayed.
Timing between processes still varies from run to run.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.integration.conftest import rows
from tests.support.fleet import Device, Fleet, assert_central_consistent

SEED = int(os.environ.get("HMOT_SOAK_SEED", "4040"))
ROUNDS = int(os.environ.get("HMOT_SOAK_ROUNDS", "6"))
ROUNDS_BUDGET_SECONDS = float(os.environ.get("HMOT_SOAK_SECONDS", "40"))
PROXY_ACTIONS = ("pass",) * 4 + ("drop_request", "drop_response", "duplicate", "reset", "delay")
DEVICE_KILLS = ("kill_device_after_push", "kill_device_pull_before_commit")
CENTRAL_KILLS = ("kill_before_commit", "kill_after_commit")


@pytest.fixture
def fleet(tmp_path, migrated_databases) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path, migrated_databases)
    yield fleet
    fleet.close()


def sync_all(devices: list[Device], envs: list[dict[str, str]]) -> list[int]:
    """Sync every device at once, each in its own process; their exit codes."""
    processes = [device.start_sync(**env) for device, env in zip(devices, envs, strict=True)]
    codes = []
    for process in processes:
        process.communicate(timeout=120)
        codes.append(process.returncode)
    return codes


def unsent(device: Device) -> list[tuple]:
    return [entry for entry in device.outbox() if entry[2] != "acknowledged"]


def test_h40_randomised_soak_loses_and_duplicates_nothing(fleet, tmp_path):
    rng = random.Random(SEED)
    injected: Counter[str] = Counter()
    disarmed = tmp_path / "central-fault-fired"  # the fault fires once this file is gone
    disarmed.touch()
    central_kill = rng.choice(CENTRAL_KILLS)
    central = fleet.start_central(HMOT_FAULT=central_kill, HMOT_FAULT_ONCE=str(disarmed))
    devices = fleet.add_devices(*((f"HSC {n}", f"hsc{n}@example.org") for n in (1, 2, 3)))
    for device in devices:
        device.proxy.delay_seconds = 0.3

    started = time.monotonic()
    rounds = 0
    for number in range(ROUNDS):
        if time.monotonic() - started > ROUNDS_BUDGET_SECONDS:
            break
        rounds += 1
        for device in devices:
            count = rng.randint(0, 3)
            if count:
                device.complete_visits(count)
        if rng.random() < 0.3 and disarmed.exists():
            disarmed.unlink()  # central dies inside the next push it gets
            injected[f"central {central_kill}"] += 1
        envs = []
        for index, device in enumerate(devices):
            with device.proxy.lock:
                device.proxy.plan.clear()
            device.proxy.then(*(rng.choice(PROXY_ACTIONS) for _ in range(rng.randint(0, 3))))
            env = {}
            if rng.random() < 0.3:
                kill = rng.choice(DEVICE_KILLS)
                once = tmp_path / f"device-{index}-round-{number}"
                env = {"HMOT_FAULT": kill, "HMOT_FAULT_ONCE": str(once)}
            envs.append(env)
        codes = sync_all(devices, envs)
        for env, code in zip(envs, codes, strict=True):
            injected["device syncs failed"] += code != 0
            if env and code == -9:
                injected[f"device {env['HMOT_FAULT']}"] += 1
        if central.process.poll() is not None:  # killed inside a push: bring it back
            injected["central restarts"] += 1
            central_kill = rng.choice(CENTRAL_KILLS)
            central.env["HMOT_FAULT"] = central_kill
            central.start()

    # Faults off: drain every device.
    disarmed.touch()
    if central.process.poll() is not None:
        central.start()
    for device in devices:
        with device.proxy.lock:
            device.proxy.plan.clear()
        for action in device.proxy.requests_seen("/api/v1/"):
            injected[f"proxy {action}"] += action != "pass"
    pending = list(devices)
    for _ in range(4):
        codes = sync_all(pending, [{}] * len(pending))
        pending = [d for d, code in zip(pending, codes, strict=True) if code != 0 or unsent(d)]
        if not pending:
            break

    visits = sum(len(device.completed) for device in devices)
    summary = ", ".join(f"{name} {count}" for name, count in sorted(injected.items()) if count)
    print(f"\nsoak seed {SEED}: {rounds} rounds, {visits} visits; faults: {summary}")
    assert not pending, [unsent(d) for d in pending]
    for device in devices:
        device.assert_converged()
    assert_central_consistent(central)
    [(total,)] = rows(central.db_path, "SELECT count(*) FROM central_visit")
    assert total == visits, f"central holds {total} visits, the devices completed {visits}"
