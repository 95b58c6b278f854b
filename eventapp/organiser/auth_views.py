"""Signing in and out of the organiser pages."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..extensions import db, limiter
from ..models.types import utcnow
from ..services.backoffice import accounts
from ..web.access import safe_next_url
from .blueprint import bp


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST so another site can't do it for you."""


def _login_key() -> str:
    """Rate-limit by address and account, so one office behind a NAT isn't locked out."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{request.remote_addr}|{email}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", key_func=_login_key, methods=["POST"])
@limiter.limit("60 per minute", methods=["POST"])
def login():
    next_url = safe_next_url(request.args.get("next"), url_for("organiser.dashboard"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        attempt = accounts.begin_login(form.email.data, now)
        db.session.commit()  # counted before the password check: see begin_login
        try:
            organiser = accounts.finish_login(attempt, form.password.data, now)
        except accounts.InvalidCredentials as error:
            db.session.commit()  # keep the failed-attempt count
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            # A fresh session on sign-in: nothing from before carries over.
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(organiser)
            session.permanent = True
            return redirect(next_url)
    status = 401 if form.is_submitted() else 200
    return render_template("organiser/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        flash(_("Your session expired; please try again."), "error")
        return redirect(url_for("organiser.dashboard"))
    if current_user.is_authenticated:
        # The cookie alone is no session: a copy of it (a shared computer, a stolen laptop
        # backup) must stop working too, so the server forgets the session it names.
        accounts.end_sessions_of(current_user)
        db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "success")
    return redirect(url_for("organiser.login"))
