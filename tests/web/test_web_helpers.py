"""eventapp/web: the one event loader and the one mapping of domain errors onto forms."""

import pytest
from flask import g
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound as HTTPNotFound
from wtforms import StringField

from eventapp.services.errors import InvalidInput, SessionFull
from eventapp.web.form_errors import show_on_form
from eventapp.web.loading import event_or_404


class NameForm(FlaskForm):
    name = StringField()


@pytest.fixture
def form(app):
    with app.test_request_context(method="POST"):
        yield NameForm(meta={"csrf": False})


def test_field_reasons_go_beside_their_field_and_unknown_ones_above_the_form(form):
    show_on_form(form, InvalidInput("Fix it.", {"name": ["Too long."], "colour": ["No."]}))
    assert form.name.errors == ["Too long."]
    assert form.form_errors == ["No."]


def test_an_invalid_input_without_fields_still_says_why(form):
    # The public and programme forms used to drop the message of such an error.
    show_on_form(form, InvalidInput("Registration is not possible."))
    assert form.form_errors == ["Registration is not possible."]


def test_any_other_domain_error_is_one_sentence_above_the_form(form):
    show_on_form(form, SessionFull("That session is full.", sessions=[{"id": 1}]))
    assert form.form_errors == ["That session is full."]
    assert not form.name.errors


def test_a_draft_is_404_on_public_pages_and_found_for_organisers(app, make_event):
    make_event(slug="draft", status="draft", default_locale="en")
    with app.test_request_context():
        with pytest.raises(HTTPNotFound):
            event_or_404("draft")
        event = event_or_404("draft", drafts=True)
        assert g.event is event
        assert getattr(g, "event_locale", None) is None  # the organiser's own language


def test_a_public_page_shows_times_in_and_speaks_the_events_language(app, make_event):
    make_event(slug="open", default_locale="en", timezone="Europe/London")
    with app.test_request_context():
        event = event_or_404("open")
        assert g.event is event and g.event_locale == "en"
    with app.test_request_context(), pytest.raises(HTTPNotFound):
        event_or_404("no-such-event")
