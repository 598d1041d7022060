"""Wire schemas of the sync API, shared by the device and central.

Every schema is an explicit allow-list: a field not named here is refused (``unknown =
RAISE``), so a misspelt or unexpected field is an error, never silently dropped or stored.
The device builds its bodies with ``dump``; central validates them with ``load``.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.formengine.definition import SETTINGS, VISIT_KINDS
from app.validation import InvalidAnswer, clean_nhs_number, clean_postcode

PROTOCOL = 1
MAX_MUTATIONS = 500
DISTRICTS = (
    "blaby",
    "charnwood",
    "harborough",
    "hinckley_and_bosworth",
    "melton",
    "north_west_leicestershire",
    "oadby_and_wigston",
)
REFERRAL_SOURCES = (
    "gp",
    "first_contact_plus",
    "customer_service_centre",
    "hospital_discharge",
    "social_worker",
    "district_housing",
    "voluntary_group",
    "self",
)


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _text(length: int, *, minimum: int = 0, **kw) -> fields.String:
    return fields.String(validate=validate.Length(min=minimum, max=length), **kw)


def _normalised(clean, message: str):
    """A validator: the value must be valid, and already in the form ``clean`` gives it."""

    def check(value: str) -> None:
        try:
            if clean(value) != value:
                raise ValidationError(message)
        except InvalidAnswer as error:
            raise ValidationError(str(error)) from None

    return check


_normalised_postcode = _normalised(clean_postcode, "Send the postcode normalised, like LE19 2DR.")
_normalised_nhs_number = _normalised(clean_nhs_number, "Send the NHS number as 10 digits.")


class ResidentSchema(Strict):
    id = fields.UUID(required=True)
    given_name = _text(100, minimum=1, required=True)
    family_name = _text(100, minimum=1, required=True)
    date_of_birth = fields.Date(required=True)
    address_line_1 = _text(200, minimum=1, required=True)
    address_line_2 = _text(200, load_default="")
    town = _text(100, minimum=1, required=True)
    postcode = fields.String(required=True, validate=_normalised_postcode)
    district = fields.String(required=True, validate=validate.OneOf(DISTRICTS))
    phone = _text(30, load_default="")
    nhs_number = fields.String(allow_none=True, load_default=None, validate=_normalised_nhs_number)


class VisitFieldsSchema(Strict):
    id = fields.UUID(required=True)
    setting = fields.String(required=True, validate=validate.OneOf(SETTINGS))
    kind = fields.String(load_default="first", validate=validate.OneOf(VISIT_KINDS))
    previous_visit_id = fields.UUID(allow_none=True, load_default=None)
    referral_source = fields.String(required=True, validate=validate.OneOf(REFERRAL_SOURCES))
    first_contact_date = fields.Date(required=True)
    visit_date = fields.Date(required=True)
    form_id = _text(60, required=True)
    form_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    completed_at = fields.DateTime(required=True)


class OrderSchema(Strict):
    """A trusted assessor's equipment order, as the tablet made and checked it."""

    id = fields.UUID(required=True)
    catalogue_id = _text(60, minimum=1, required=True)
    catalogue_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    rules_version = _text(40, minimum=1, required=True)
    item_code = _text(40, minimum=1, required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=20))
    location = _text(100, load_default="")
    side = _text(20, load_default="")
    measurements = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.Raw(),
        load_default=dict,
    )
    reason = _text(2000, load_default="")
    acknowledged = fields.List(_text(40), load_default=list)
    ta_level = fields.String(required=True, validate=validate.OneOf(("none", "L3", "L4")))
    route = fields.String(
        required=True, validate=validate.OneOf(("direct", "approval", "held", "refused"))
    )


class VisitBodySchema(Strict):
    """One completed revision of a visit: what central stores and hashes."""

    visit = fields.Nested(VisitFieldsSchema, required=True)
    resident = fields.Nested(ResidentSchema, required=True)
    # Keys and values are checked against the form definition (sync.server.check_answers).
    answers = fields.Dict(required=True)
    consents = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(("yes", "no"))),
        required=True,
    )
    # Equipment a trusted assessor ordered during the visit (re-checked by central).
    orders = fields.List(fields.Nested(OrderSchema), load_default=list)


class MutationSchema(Strict):
    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    mutation_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("visit.complete",)))
    visit_id = fields.UUID(required=True)
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    base_revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    device_time = fields.DateTime(required=True)
    body = fields.Dict(required=True)  # checked record by record with VisitBodySchema


class HeartbeatSchema(Strict):
    outbox_length = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    oldest_unsynced_age_seconds = fields.Integer(
        required=True, strict=True, allow_none=True, validate=validate.Range(min=0)
    )
    quarantine_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    app_version = _text(40, required=True)
    form_versions = fields.List(_text(80), required=True)
    device_clock = fields.DateTime(required=True)


class PushRequestSchema(Strict):
    protocol = fields.Integer(required=True, strict=True)
    device_id = fields.UUID(required=True)
    heartbeat = fields.Nested(HeartbeatSchema, required=True)
    # Each mutation is checked on its own, so one bad record never blocks the others.
    mutations = fields.List(
        fields.Dict(), required=True, validate=validate.Length(max=MAX_MUTATIONS)
    )


class EnrolRequestSchema(Strict):
    protocol = fields.Integer(required=True, strict=True)
    code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    device_name = _text(120, load_default="")
    app_version = _text(40, required=True)


def validation_detail(error: ValidationError) -> dict:
    """Field-level messages in a shape that is stable to report and to show."""
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}
