"""Central's forms: signing in, choosing a role, and an account's details for each role.

An account form's own checks are only what a page can tell (a date that is not a real
date); what makes the details valid is ``account_problems``, shared with the CLI.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import PasswordField, RadioField, SelectMultipleField, StringField, SubmitField

from app.central import accounts
from app.central.account_rules import AccountDetails, normalise_email
from app.central.roles import (
    ADMIN,
    DISTRICT_LABELS,
    HSC,
    PROVIDER,
    ROLE_LABELS,
    SERVICE_LABELS,
    TA_LABELS,
    TEAM_LEADER,
)
from app.fields import GovDateField, Required, choices
from app.models import User


class SignInForm(FlaskForm):
    email = StringField(
        "Email address", [Required("Enter your email address")], widget=GovTextInput()
    )
    password = PasswordField(
        "Password", [Required("Enter your password")], widget=GovPasswordInput()
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = RadioField(
        "What is the person’s role?",
        [Required("Select the person’s role")],
        choices=choices(ROLE_LABELS.items()),
        widget=GovRadioInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A confirmation page's one button; the page says what it will do."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class AccountForm(FlaskForm):
    """Name and email; a subclass per role adds that role's details."""

    role = ADMIN
    # account_problems' keys that a form shows against a differently named field
    problem_fields: dict[str, str] = {}

    name = StringField("Full name", widget=GovTextInput())
    email = StringField(
        "Email address",
        description="They sign in with this. It cannot be changed later.",
        widget=GovTextInput(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user  # the account being edited, or None for a new one
        if user is not None:
            del self.email
            if not self.is_submitted():
                self.load(user)

    def load(self, user: User) -> None:
        self.name.data = user.name

    def role_details(self) -> dict:
        return {}

    def details(self) -> AccountDetails:
        email = self.user.email if self.user is not None else normalise_email(self.email.data)
        return AccountDetails(
            name=self.name.data or "", email=email, role=self.role, **self.role_details()
        ).normalised()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        user_id = self.user.id if self.user is not None else None
        for key, message in accounts.check_account(self.details(), user_id=user_id).items():
            field = self._fields.get(self.problem_fields.get(key, key))
            if field is not None and not field.errors:
                field.errors.append(message)
                valid = False
        return valid


class HscAccountForm(AccountForm):
    role = HSC
    problem_fields = {"districts": "district"}

    district = RadioField(
        "District",
        choices=choices(DISTRICT_LABELS.items()),
        validate_choice=False,
        widget=GovRadioInput(),
    )
    ta_level = RadioField(
        "Trusted-assessor level",
        choices=choices(TA_LABELS.items()),
        validate_choice=False,
        widget=GovRadioInput(),
    )
    ta_signed_off_on = GovDateField(
        "Date the level was signed off",
        name_in_errors="Date of sign-off",
        when="not_future",
        description="Only for level 3 or 4. For example, 14 3 2025",
    )
    ta_supervisor = StringField(
        "Supervisor who signed off the level",
        description="Only for level 3 or 4",
        widget=GovTextInput(),
    )

    def load(self, user: User) -> None:
        super().load(user)
        self.district.data = user.district_names[0] if user.district_names else None
        self.ta_level.data = user.ta_level
        self.ta_signed_off_on.data = user.ta_signed_off_on
        self.ta_supervisor.data = user.ta_supervisor

    def role_details(self) -> dict:
        return {
            "districts": (self.district.data,) if self.district.data else (),
            "ta_level": self.ta_level.data or "",
            "ta_signed_off_on": self.ta_signed_off_on.data,
            "ta_supervisor": self.ta_supervisor.data or "",
        }


class TeamLeaderAccountForm(AccountForm):
    role = TEAM_LEADER

    districts = SelectMultipleField(
        "Districts",
        description="Select all the districts they lead.",
        choices=choices(DISTRICT_LABELS.items()),
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )

    def load(self, user: User) -> None:
        super().load(user)
        self.districts.data = user.district_names

    def role_details(self) -> dict:
        return {"districts": tuple(self.districts.data or ())}


class ProviderAccountForm(AccountForm):
    role = PROVIDER

    provider_service = RadioField(
        "Service",
        description="They will see this service’s referrals only.",
        choices=choices(SERVICE_LABELS.items()),
        validate_choice=False,
        widget=GovRadioInput(),
    )

    def load(self, user: User) -> None:
        super().load(user)
        self.provider_service.data = user.provider_service

    def role_details(self) -> dict:
        return {"provider_service": self.provider_service.data}


ACCOUNT_FORMS: dict[str, type[AccountForm]] = {
    HSC: HscAccountForm,
    TEAM_LEADER: TeamLeaderAccountForm,
    PROVIDER: ProviderAccountForm,
    ADMIN: AccountForm,
}
