"""Central's commands: accounts, enrolment codes and devices, for set-up and emergencies.

``python -m app central create-user ...``. Nothing secret is printed except what the
command exists to hand over (a temporary password, an enrolment code).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import click
from flask import Flask, current_app

import app.db as app_db
from app.central import accounts
from app.central.account_rules import AccountDetails, password_problem
from app.central.devices import describe_time
from app.extensions import db
from app.models.central import PROVIDER_SERVICES, ROLES, TA_LEVELS
from app.models.field import utcnow
from app.runtime import tune_gc


def _user(email: str):
    user = accounts.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"There is no account with the email address {email}")
    return user


def register(app: Flask) -> None:
    @app.cli.command("work")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between looks.")
    @click.option(
        "--nice",
        default=19,
        show_default=True,
        type=click.IntRange(0, 19),
        help="How far below the web server to run (Unix niceness added).",
    )
    def work(interval: float, nice: int) -> None:
        """Work out received visits' referrals and flags, until stopped (the Procfile's
        ``worker``, beside a web server started with gunicorn). It runs at a lower CPU
        priority than the web server: a device waiting on its push comes first, and the
        worker catches up with the time left over."""
        import logging
        import signal

        if nice and hasattr(os, "nice"):
            os.nice(nice)
        # Everything this process writes it can write again (app.db.SYNCHRONOUS).
        app_db.SYNCHRONOUS = "NORMAL"
        db.engine.dispose()
        tune_gc()

        from app.central.ingest import IngestWorker

        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(logging.INFO)
        worker = IngestWorker(current_app._get_current_object(), interval)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        click.echo("Housing MOT central ingest worker running")
        try:
            worker.run()
        except KeyboardInterrupt:
            worker.stop()

    @app.cli.command("retry-ingest")
    def retry_ingest() -> None:
        """Try again the visits whose referrals could not be worked out."""
        from app.central.ingest import retry_stuck

        count = retry_stuck()
        click.echo(f"{count} ingest job{'' if count == 1 else 's'} queued again")

    @app.cli.command("create-user")
    @click.option("--name", required=True)
    @click.option("--email", required=True)
    @click.option("--role", required=True, type=click.Choice(ROLES))
    @click.option("--district", "districts", multiple=True, help="Repeat for several.")
    @click.option("--service", type=click.Choice(PROVIDER_SERVICES), help="Providers only.")
    @click.option("--ta-level", type=click.Choice(TA_LEVELS), default="none", show_default=True)
    @click.option("--ta-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
    @click.option("--ta-supervisor", default="")
    def create_user(
        name: str,
        email: str,
        role: str,
        districts: tuple[str, ...],
        service: str | None,
        ta_level: str,
        ta_date: datetime | None,
        ta_supervisor: str,
    ) -> None:
        """Create an account; the password comes from HMOT_PASSWORD or is prompted for."""
        details = AccountDetails(
            name=name,
            email=email,
            role=role,
            districts=districts,
            provider_service=service,
            ta_level=ta_level,
            ta_signed_off_on=ta_date.date() if ta_date else None,
            ta_supervisor=ta_supervisor,
        ).normalised()
        problems = accounts.check_account(details)
        if problems:
            raise click.ClickException("\n".join(problems.values()))
        password = os.environ.get("HMOT_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        if problem := password_problem(password):
            raise click.ClickException(problem)
        user = accounts.create_user(None, details, password)
        click.echo(f"Created the {role} account {user.email}.")

    @app.cli.command("reset-password")
    @click.option("--email", required=True)
    def reset_password(email: str) -> None:
        """Give the account a new temporary password, printed once."""
        user = _user(email)
        password = accounts.reset_user_password(None, user.id)
        click.echo(f"New temporary password for {user.email}: {password}")

    @app.cli.command("deactivate-user")
    @click.option("--email", required=True)
    def deactivate_user(email: str) -> None:
        """Stop the account signing in (its sessions end at their next request)."""
        user = accounts.deactivate_user(None, _user(email).id)
        click.echo(f"Deactivated {user.email}.")

    @app.cli.command("create-enrolment-code")
    @click.option("--email", required=True)
    def create_enrolment_code(email: str) -> None:
        """Make a one-time code that enrols one device for this HSC."""
        user = _user(email)
        try:
            record, code = accounts.create_enrolment_code(None, user.id)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Enrolment code for {user.email}: {code}")
        click.echo(f"It works once and expires at {describe_time(record.expires_at)}.")

    @app.cli.command("list-devices")
    def list_devices() -> None:
        """Every enrolled device, those holding a visit unsynced for over a day first."""
        now = utcnow()
        devices = accounts.list_devices(now)
        if not devices:
            click.echo("No devices are enrolled.")
        for device in devices:
            flags = [
                flag
                for flag, on in (
                    ("UNSYNCED OVER A DAY", accounts.device_is_stale(device, now)),
                    ("REVOKED", device.revoked_at is not None),
                )
                if on
            ]
            click.echo(
                f"{device.id}  {device.user.email}  {device.name or '-'}  "
                f"last sync {describe_time(device.last_sync_at)}"
                + (f"  [{', '.join(flags)}]" if flags else "")
            )

    @app.cli.command("revoke-device")
    @click.argument("device_id", type=click.UUID)
    def revoke_device(device_id: uuid.UUID) -> None:
        """Refuse this device's syncs from now on."""
        try:
            device = accounts.revoke_device(None, device_id)
        except LookupError:
            raise click.ClickException(f"There is no device {device_id}") from None
        click.echo(f"Revoked device {device.id} ({device.user.email}).")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Add the demo accounts (one per role; password 'demo password 1', demo only)."""
        from app.central.demo import seed

        click.echo(seed())
