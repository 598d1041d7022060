"""Enrolled devices and how their syncing is going, from each device's last heartbeat.

Devices holding a visit that has not reached central for more than a day come first, so a
team leader can chase them. Admins can revoke a device: its token is refused from then on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.central import accounts, ingest
from app.central.forms import ConfirmForm
from app.central.roles import ADMIN, TEAM_LEADER, role_required
from app.models import Device
from app.models.field import utcnow

bp = Blueprint("devices", __name__)


def describe_duration(seconds: float | None) -> str:
    if seconds is None:
        return "Not known"
    seconds = abs(int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "Less than a minute"


def describe_clock_offset(seconds: float | None) -> str:
    if seconds is None:
        return "Not known"
    if abs(seconds) < 60:
        return "Within a minute of the office clock"
    direction = "ahead of" if seconds > 0 else "behind"
    return f"{describe_duration(seconds)} {direction} the office clock"


def describe_time(at: datetime | None) -> str:
    return at.strftime("%-d %B %Y, %H:%M UTC") if at else "Never"


def describe_form_versions(versions) -> str:
    if isinstance(versions, dict) and versions:
        return ", ".join(f"{form} version {version}" for form, version in sorted(versions.items()))
    if isinstance(versions, list | tuple) and versions:
        return ", ".join(str(version) for version in versions)
    return "Not known"


@dataclass(frozen=True)
class DeviceRow:
    """One device as the page shows it."""

    device: Device
    stale: bool
    rows: list[tuple[str, str]]


def device_row(device: Device, now: datetime) -> DeviceRow:
    beat = device.heartbeat or {}
    outbox = beat.get("outbox_length")
    quarantined = beat.get("quarantine_count")
    rows = [
        ("Enrolled", describe_time(device.enrolled_at)),
        ("Last sync", describe_time(device.last_sync_at)),
        ("Last seen", describe_time(device.last_seen_at)),
        ("Waiting to sync", "Not known" if outbox is None else _visits(outbox)),
        ("Oldest unsynced", describe_duration(beat.get("oldest_unsynced_age_seconds"))),
        ("Quarantined", "Not known" if quarantined is None else _visits(quarantined)),
        ("App version", str(beat.get("app_version") or "Not known")),
        ("Form versions", describe_form_versions(beat.get("form_versions"))),
        ("Device clock", str(beat.get("device_clock") or "Not known")),
        ("Clock difference", describe_clock_offset(device.clock_offset_seconds)),
    ]
    return DeviceRow(device, accounts.device_is_stale(device, now), rows)


@bp.get("/devices")
@role_required(ADMIN, TEAM_LEADER)
def list_devices():
    now = utcnow()
    rows = [device_row(device, now) for device in accounts.list_devices_for(current_user, now)]
    health = ingest.queue_health() if current_user.role == ADMIN else None
    return render_template(
        "central/devices.html",
        rows=rows,
        stale_count=sum(row.stale for row in rows),
        ingest=health,
        waiting_for=describe_duration((now - health.oldest).total_seconds())
        if health and health.oldest
        else "",
    )


@bp.route("/devices/<uuid:device_id>/revoke", methods=["GET", "POST"])
@role_required(ADMIN)
def revoke_device(device_id: uuid.UUID):
    device = accounts.get_device(device_id)
    if device is None:
        abort(404)
    if device.revoked_at is not None:
        flash("This device is already revoked")
        return redirect(url_for(".list_devices"))
    form = ConfirmForm()
    form.submit.label.text = "Revoke device"
    if form.validate_on_submit():
        accounts.revoke_device(current_user.id, device.id)
        flash(f"Device revoked: {device.name or 'unnamed device'} ({device.user.name})", "success")
        return redirect(url_for(".list_devices"))
    return render_template(
        "central/confirm.html",
        form=form,
        heading=f"Revoke {device.user.name}’s device?",
        text="The office will refuse this device’s syncs from now on. Anything on it that has "
        "not reached the office yet stays on the device.",
        back=url_for(".list_devices"),
        warning=True,
    )


def _visits(count: int) -> str:
    return f"{count} visit" if count == 1 else f"{count} visits"
