"""Central as the Procfile runs it: the web process answers pushes, and a ``central work``
process makes the referrals. Receipts never wait for referrals, and while the worker is down
(SIGKILL) visits still arrive and are kept: started again, it makes every one (real
processes). The worker runs below the web process's CPU priority."""

from __future__ import annotations

import os
import time

from tests.integration.conftest import make_pair, rows
from tests.support.nodes import CentralNode

STATUS = "SELECT status, count(*) FROM central_visit GROUP BY status"
REFERRED = "SELECT count(DISTINCT visit_id) FROM referral WHERE kind = 'referral'"


def wait_until_processed(central: CentralNode, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while rows(central.db_path, "SELECT count(*) FROM ingest_job") != [(0,)]:
        assert time.monotonic() < deadline, "the worker did not make the referrals"
        time.sleep(0.1)


def test_a_separate_worker_makes_the_referrals_and_a_killed_one_loses_nothing(tmp_path):
    pair = make_pair(tmp_path, separate_worker=True)
    central = pair.central
    try:
        pair.complete_visits(2)
        assert pair.sync().returncode == 0
        wait_until_processed(central)
        assert rows(central.db_path, STATUS) == [("received", 2)]
        assert rows(central.db_path, REFERRED) == [(2,)]
        # It works at a lower CPU priority than the web process, which answers devices.
        web, worker = (
            os.getpriority(os.PRIO_PROCESS, p.pid) for p in (central.process, central.worker)
        )
        assert worker == min(web + 19, 19)

        central.kill_worker()  # SIGKILL: visits keep arriving, nobody makes referrals
        pair.complete_visits(3)
        assert pair.sync().returncode == 0
        pair.assert_converged()  # every receipt went back without waiting for referrals
        assert rows(central.db_path, STATUS) == [("processing", 3), ("received", 2)]
        assert rows(central.db_path, "SELECT count(*) FROM ingest_job") == [(3,)]
        assert rows(central.db_path, REFERRED) == [(2,)]

        central.start_worker()
        wait_until_processed(central)
        assert rows(central.db_path, STATUS) == [("received", 5)]
        assert rows(central.db_path, REFERRED) == [(5,)]
        pair.assert_converged()
    finally:
        pair.proxy.close()
        central.stop()
