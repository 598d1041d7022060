"""The fixed forms of the visit journey: the resident and visit details."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import ValidationError

from app.fields import Cleaned, GovDateField, Optional, Required, choices
from app.validation import clean_nhs_number, clean_postcode

DISTRICTS = (
    ("blaby", "Blaby"),
    ("charnwood", "Charnwood"),
    ("harborough", "Harborough"),
    ("hinckley_and_bosworth", "Hinckley and Bosworth"),
    ("melton", "Melton"),
    ("north_west_leicestershire", "North West Leicestershire"),
    ("oadby_and_wigston", "Oadby and Wigston"),
)
SETTINGS = (
    ("home", "At the resident’s home"),
    ("gp_clinic", "At a GP surgery clinic"),
    ("hospital", "In hospital"),
    ("phone", "By phone"),
)
REFERRAL_SOURCES = (
    ("gp", "GP practice"),
    ("first_contact_plus", "First Contact Plus"),
    ("customer_service_centre", "Adult social care customer service centre"),
    ("hospital_discharge", "Hospital discharge team"),
    ("social_worker", "Social worker"),
    ("district_housing", "District housing team"),
    ("voluntary_group", "Voluntary or community group"),
    ("self", "The resident, or their family"),
)
RESIDENT_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "district",
    "phone",
    "nhs_number",
)
VISIT_FIELDS = ("setting", "referral_source", "first_contact_date", "visit_date")


def label_for(choices: tuple[tuple[str, str], ...], value: str) -> str:
    return dict(choices).get(value, value)


class VisitDetailsForm(FlaskForm):
    rev = HiddenField()
    given_name = StringField(
        "First name", [Required("Enter the resident’s first name")], widget=GovTextInput()
    )
    family_name = StringField(
        "Last name", [Required("Enter the resident’s last name")], widget=GovTextInput()
    )
    date_of_birth = GovDateField(
        "Date of birth",
        [Required("Enter the resident’s date of birth")],
        name_in_errors="Date of birth",
        when="past",
        description="For example, 27 3 1944",
    )
    address_line_1 = StringField(
        "Address line 1",
        [Required("Enter address line 1, typically the building and street")],
        widget=GovTextInput(),
    )
    address_line_2 = StringField("Address line 2 (optional)", [Optional()], widget=GovTextInput())
    town = StringField("Town or city", [Required("Enter the town or city")], widget=GovTextInput())
    postcode = StringField(
        "Postcode",
        [Required("Enter the postcode"), Cleaned(clean_postcode)],
        widget=GovTextInput(),
    )
    district = RadioField(
        "District",
        [Required("Select the district the resident lives in")],
        choices=choices(DISTRICTS),
        widget=GovRadioInput(),
    )
    phone = StringField("Phone number (optional)", [Optional()], widget=GovTextInput())
    nhs_number = StringField(
        "NHS number (optional)",
        [Optional(), Cleaned(clean_nhs_number)],
        description="Only if the resident agrees and it will be used to share with health "
        "services. It’s 10 digits long, like 485 777 3456.",
        widget=GovTextInput(),
    )
    setting = RadioField(
        "Where is the assessment taking place?",
        [Required("Select where the assessment is taking place")],
        choices=choices(SETTINGS),
        widget=GovRadioInput(),
    )
    referral_source = RadioField(
        "Who referred the resident?",
        [Required("Select who referred the resident")],
        choices=choices(REFERRAL_SOURCES),
        widget=GovRadioInput(),
    )
    first_contact_date = GovDateField(
        "Date of first contact",
        [Required("Enter the date of first contact")],
        name_in_errors="Date of first contact",
        when="not_future",
        description="When the service first heard from or about the resident",
    )
    visit_date = GovDateField(
        "Date of this visit",
        [Required("Enter the date of this visit")],
        name_in_errors="Date of this visit",
        when="not_future",
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_visit_date(self, field) -> None:
        first = self.first_contact_date.data
        if field.data and first and field.data < first:
            raise ValidationError(
                "Date of this visit must be on or after the date of first contact"
            )

    def resident_values(self) -> dict:
        values = {name: self[name].data for name in RESIDENT_FIELDS}
        for name in (
            "given_name",
            "family_name",
            "address_line_1",
            "address_line_2",
            "town",
            "phone",
        ):
            values[name] = (values[name] or "").strip()
        values["nhs_number"] = values["nhs_number"] or None
        return values

    def visit_values(self) -> dict:
        return {name: self[name].data for name in VISIT_FIELDS}
