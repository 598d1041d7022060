"""Failure injection across real processes (sync-reference §7). Every test ends with the
invariants: each visit the HSC completed is on central exactly once, and the device's view
equals central's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.conftest import EMAIL, make_pair, rows
from tests.support.nodes import ROOT


def test_a1_response_lost_after_commit_is_resent_and_answered_from_the_stored_result(pair):
    pair.complete_visits(2)
    pair.proxy.then("drop_response")
    first = pair.sync()
    assert first.returncode != 0  # the device did not hear back
    assert len(pair.central_visits()) == 2  # ...but central had acted
    assert set(pair.outbox().values()) == {"sent"}
    assert pair.sync().returncode == 0
    assert pair.proxy.requests_seen("/sync/push")[:2] == ["drop_response", "pass"]
    pair.assert_converged()


def test_a2_a_lost_request_changes_nothing_and_the_retry_applies_once(pair):
    pair.complete_visits(1)
    pair.proxy.then("drop_request")
    assert pair.sync().returncode != 0
    assert pair.central_visits() == []
    assert pair.sync().returncode == 0
    pair.assert_converged()


def test_a5_the_same_push_delivered_twice_is_applied_once(pair):
    pair.complete_visits(3)
    pair.proxy.then("duplicate")
    assert pair.sync().returncode == 0
    pair.assert_converged()


@pytest.mark.parametrize("point", ["before_commit", "after_commit"])
def test_b10_b11_central_killed_inside_a_push_loses_and_duplicates_nothing(tmp_path, point):
    pair = make_pair(tmp_path, HMOT_FAULT=f"kill_{point}", HMOT_FAULT_ONCE=str(tmp_path / "fired"))
    try:
        pair.complete_visits(3)
        assert pair.sync().returncode != 0
        stored = len(pair.central_visits())
        assert stored == (0 if point == "before_commit" else 3)
        pair.central.start()  # the same database, restarted
        assert pair.sync().returncode == 0
        pair.assert_converged()
    finally:
        pair.proxy.close()
        pair.central.stop()


@pytest.mark.parametrize(("fault", "completed"), [("kill_complete_before_commit", 0), ("", 1)])
def test_c15_completing_a_visit_writes_the_visit_and_its_outbox_entry_together(
    pair, fault, completed
):
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.complete_visit", EMAIL],
        cwd=ROOT,
        env={**pair.field.env, "HMOT_FAULT": fault},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == (-9 if fault else 0), result.stderr
    visits = rows(pair.field.db_path, "SELECT count(*) FROM visit WHERE status = 'completed'")
    outbox = rows(pair.field.db_path, "SELECT count(*) FROM outbox")
    assert visits == outbox == [(completed,)]
    assert pair.sync().returncode == 0
    pair.assert_converged()


def test_c16_killed_after_centrals_answer_before_recording_it_the_resend_is_a_replay(pair):
    pair.complete_visits(2)
    killed = pair.sync(HMOT_FAULT="kill_device_after_push", HMOT_FAULT_ONCE=str(pair.tmp / "fired"))
    assert killed.returncode == -9
    assert set(pair.outbox().values()) == {"sent"}  # outcome unknown on the device
    assert len(pair.central_visits()) == 2
    assert pair.sync().returncode == 0
    pair.assert_converged()


def test_c17_killed_while_applying_a_pull_the_cursor_does_not_move_and_a_repull_is_harmless(pair):
    pair.complete_visits(2)
    killed = pair.sync(
        HMOT_FAULT="kill_device_pull_before_commit", HMOT_FAULT_ONCE=str(pair.tmp / "fired")
    )
    assert killed.returncode == -9
    assert rows(pair.field.db_path, "SELECT pull_cursor FROM device_state") == [(0,)]
    assert pair.sync().returncode == 0
    assert rows(pair.field.db_path, "SELECT pull_cursor FROM device_state")[0][0] > 0
    pair.assert_converged()
