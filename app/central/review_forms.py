"""The team leader's decisions on a visit and on its equipment orders, each pinned to the
revision hash shown."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import Length, Regexp

from app.central.reviews import COMMENT_LIMIT
from app.fields import Required

_SHA256 = [Regexp(r"^[0-9a-f]{64}$", message="The page was out of date: open the visit again.")]


class ApproveForm(FlaskForm):
    sha256 = HiddenField(validators=_SHA256)
    approve = SubmitField("Approve and issue referrals", widget=GovSubmitInput())


class ReturnForm(FlaskForm):
    sha256 = HiddenField(validators=_SHA256)
    comment = TextAreaField(
        "What should the HSC change?",
        [
            Required("Enter a comment that tells the HSC what to change"),
            Length(
                max=COMMENT_LIMIT,
                message=f"The comment must be {COMMENT_LIMIT:,} characters or fewer",
            ),
        ],
        description="The HSC sees this on their tablet, with the visit open to edit.",
        widget=GovTextArea(),
    )
    return_visit = SubmitField(
        "Return to the HSC", widget=GovSubmitInput(), render_kw={"class": "govuk-button--secondary"}
    )


class ApproveOrderForm(FlaskForm):
    """One order's approval; the page renders its button per order."""

    sha256 = HiddenField(validators=_SHA256)
