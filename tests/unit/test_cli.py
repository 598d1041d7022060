"""The field node's commands: creating a profile and loading the demo data."""

from __future__ import annotations

from app import queries
from app.demo import DEMO_EMAIL


def test_create_hsc_makes_a_profile_that_can_sign_in(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-hsc", "--name", "Pat Lee", "--email", "pat@example.org"],
        env={"HMOT_PASSPHRASE": "a long passphrase"},
    )
    assert result.exit_code == 0, result.output
    client.sign_in("pat@example.org", "a long passphrase")


def test_create_hsc_refuses_a_short_passphrase_and_a_second_profile_for_one_email(app):
    runner = app.test_cli_runner()
    args = ["create-hsc", "--name", "Pat Lee", "--email", "pat@example.org"]
    short = runner.invoke(args=args, env={"HMOT_PASSPHRASE": "short"})
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    assert runner.invoke(args=args, env={"HMOT_PASSPHRASE": "a long passphrase"}).exit_code == 0
    again = runner.invoke(args=args, env={"HMOT_PASSPHRASE": "a long passphrase"})
    assert again.exit_code != 0 and "already exists" in again.output


def test_seed_demo_creates_the_case_stories_part_done_and_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    assert "4 visits created" in runner.invoke(args=["seed-demo"]).output
    assert "already present" in runner.invoke(args=["seed-demo"]).output
    with app.app_context():
        profile = queries.get_profile_by_email(DEMO_EMAIL)
        lists = queries.list_visits(profile.id)
        names = {v.resident.full_name for v in lists.drafts}
        assert {"Margaret Hollis", "Edith Marlow"} <= names
        assert len(lists.drafts) == 3 and len(lists.completed) == 1
        story_1 = next(v for v in lists.drafts if v.resident.family_name == "Hollis")
        done = [s for s, entry in story_1.progress.items() if entry.get("completed")]
        assert 0 < len(done) < 8  # part done
