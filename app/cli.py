"""Commands for running a node: ``serve`` for both roles; the field node's ``create-hsc`` and
``seed-demo`` here, central's in ``app.central.cli``."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from app import queries
from app.auth import MIN_PASSPHRASE_LENGTH, hash_passphrase
from app.runtime import tune_gc


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8001, show_default=True, type=int)
    @click.option("--threads", default=4, show_default=True, type=int)
    @click.option(
        "--ingest-worker/--no-ingest-worker",
        default=True,
        show_default=True,
        help="Central: work out received visits' referrals in a thread of this process "
        "(off when a separate `work` process does it).",
    )
    def serve(host: str, port: int, threads: int, ingest_worker: bool) -> None:
        """Bring the database up to date, then serve this node with waitress."""
        import logging

        from waitress import serve as waitress_serve

        upgrade()
        # Operational lines only (device ids, counts, codes): never personal data. The
        # migrations may have configured logging already, so the level is set either way.
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(logging.INFO)
        click.echo(f"Housing MOT {current_app.config['ROLE']} node on http://{host}:{port}/")
        app = current_app._get_current_object()
        if app.config["ROLE"] == "field":
            from sync.worker import SyncWorker

            app.extensions["sync_worker"] = SyncWorker(app).start()
        elif ingest_worker and not app.config["INGEST_INLINE"]:
            from app.central.ingest import IngestWorker

            app.extensions["ingest_worker"] = IngestWorker(app).start()
        tune_gc()
        waitress_serve(app, host=host, port=port, threads=threads, ident="housing-mot")

    if app.config["ROLE"] == "central":
        from app.central.cli import register as register_central

        register_central(app)
        return

    @app.cli.command("create-hsc")
    @click.option("--name", required=True)
    @click.option("--email", required=True)
    @click.option(
        "--passphrase-env",
        default="HMOT_PASSPHRASE",
        show_default=True,
        help="Environment variable holding the passphrase; prompted for if unset.",
    )
    def create_hsc(name: str, email: str, passphrase_env: str) -> None:
        """Create a local HSC profile to sign in with on this device."""
        passphrase = os.environ.get(passphrase_env) or click.prompt(
            "Passphrase", hide_input=True, confirmation_prompt=True
        )
        if len(passphrase) < MIN_PASSPHRASE_LENGTH:
            raise click.BadParameter(
                f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters"
            )
        if queries.get_profile_by_email(email):
            raise click.BadParameter(f"a profile for {email} already exists on this device")
        queries.create_profile(name, email, hash_passphrase(passphrase))
        click.echo(f"Created a profile for {name}.")

    @app.cli.command("enrol")
    @click.option("--central", "central_url", required=True, help="The office server's address.")
    @click.option("--code", required=True, help="The one-time enrolment code.")
    @click.option("--device-name", default="", help="A name for this device.")
    @click.option("--passphrase-env", default="HMOT_PASSPHRASE", show_default=True)
    def enrol(central_url: str, code: str, device_name: str, passphrase_env: str) -> None:
        """Enrol this field node with central, and set the owner's local passphrase."""
        from sync.client import Refused, TryLater
        from sync.device import AlreadyEnrolled
        from sync.device import enrol as enrol_device

        if current_app.config["ROLE"] != "field":
            raise click.UsageError("only a field node is enrolled")
        passphrase = os.environ.get(passphrase_env) or click.prompt(
            "Passphrase for this device", hide_input=True, confirmation_prompt=True
        )
        if len(passphrase) < MIN_PASSPHRASE_LENGTH:
            raise click.BadParameter(
                f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters"
            )
        try:
            profile = enrol_device(central_url, code, hash_passphrase(passphrase), device_name)
        except AlreadyEnrolled as error:
            raise click.ClickException(str(error)) from None
        except Refused as error:
            raise click.ClickException(error.message or error.code) from None
        except TryLater as error:
            raise click.ClickException(f"could not reach {central_url}: {error.reason}") from None
        click.echo(f"Enrolled. Sign in on this device as {profile.email}.")

    @app.cli.command("sync")
    def sync_command() -> None:
        """Sync with central now (push the outbox, pull changes)."""
        from sync.device import sync_once

        report = sync_once()
        if not report.ran:
            raise click.ClickException("not enrolled, revoked, or a sync is already running")
        if report.error:
            raise click.ClickException(report.error)
        click.echo(f"Synced: sent {report.pushed or 'nothing'}, {report.pulled} changes received.")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Add a demo HSC profile and a few demo visits (two are the case stories, part done)."""
        from app.demo import seed

        click.echo(seed())
