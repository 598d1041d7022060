"""A provider's three reports on a referral: accepted, completed (with the date) and declined
(with a reason), and the report on each item of equipment it carries (delivered or fitted).
What makes a report valid is checked again in ``providers`` and ``order_delivery``; these
give the page its GOV.UK messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from app.central.providers import DECLINE_REASON_LIMIT
from app.fields import GovDateField, Required


class AcceptForm(FlaskForm):
    accept = SubmitField("Accept referral", widget=GovSubmitInput())


class CompleteForm(FlaskForm):
    completed_on = GovDateField(
        "When was the work completed?",
        [Required("Enter the date the work was completed")],
        name_in_errors="Date of completion",
        when="not_future",
        description="For example, 27 3 2026",
    )
    complete = SubmitField("Mark as completed", widget=GovSubmitInput())


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Why are you declining this referral?",
        [
            Required("Enter the reason for declining the referral"),
            Length(
                max=DECLINE_REASON_LIMIT,
                message=f"Reason for declining must be {DECLINE_REASON_LIMIT:,} characters "
                "or fewer",
            ),
        ],
        description="The HSC who made the referral sees this reason.",
        widget=GovTextArea(),
    )
    decline = SubmitField("Decline referral", widget=GovSubmitInput())


class ItemForm(FlaskForm):
    """Delivered or fitted: the page renders one button per item, so this has only CSRF."""
