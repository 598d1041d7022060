from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField

from app import queries
from app.auth import local_path, passphrase_matches
from app.fields import Required, error_list

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = StringField(
        "Email address", [Required("Enter your email address")], widget=GovTextInput()
    )
    passphrase = PasswordField(
        "Passphrase", [Required("Enter your passphrase")], widget=GovPasswordInput()
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("visits.my_visits"))
    form = SignInForm()
    errors = []
    if form.validate_on_submit():
        profile = queries.get_profile_by_email(form.email.data)
        if profile and profile.active and passphrase_matches(profile, form.passphrase.data):
            session.clear()
            login_user(profile, remember=False)
            session.permanent = True
            queries.record_sign_in(profile)
            return redirect(local_path(request.args.get("next"), url_for("visits.my_visits")))
        form.passphrase.errors = ["Enter a correct email address and passphrase"]
        form.passphrase.data = ""
    errors = error_list(form)
    return render_template("auth/sign-in.html", form=form, errors=errors)


@bp.post("/sign-out")
@login_required
def sign_out():
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))
