"""Two languages: every wrapped string has a Dutch translation, the language follows the
visitor's choice, then the browser, then the event; dates are written the local way."""

from datetime import UTC, datetime

import flask_babel
import pytest
from babel.messages.catalog import Catalog

from tests.catalogs import TRANSLATIONS, extract_messages, read_catalog

NL_PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"


def untranslated(template: Catalog, translations: Catalog) -> list[str]:
    """The messages of `template` that `translations` lacks, leaves empty or marks fuzzy."""
    problems = []
    for message in template:
        if not message.id:
            continue
        found = translations.get(message.id, message.context)
        strings = (
            []
            if found is None
            else list(found.string)
            if isinstance(found.string, tuple | list)
            else [found.string]
        )
        label = message.id if isinstance(message.id, str) else message.id[0]
        where = ", ".join(sorted({loc[0] for loc in message.locations}))
        if found is None or not strings or not all(strings):
            problems.append(f"untranslated: {label!r} ({where})")
        elif found.fuzzy:
            problems.append(f"fuzzy: {label!r} ({where})")
    return problems


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pytest.MonkeyPatch.context() as monkeypatch:
        extract_messages(pot, monkeypatch)
    return read_catalog(pot)


def test_extraction_finds_the_strings_of_templates_python_and_forms(extracted):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted if m.id}
    assert "Skip to content" in ids  # templates/base.html
    assert "Job role (optional)" in ids  # a lazy_gettext (_l) label in public/forms.py
    assert "Please agree to the processing of your data to register." in ids  # a service
    assert "%(num)d place left" in ids  # an ngettext in a template


def test_every_message_has_a_dutch_translation(extracted):
    problems = untranslated(extracted, read_catalog(NL_PO, "nl"))
    assert not problems, (
        "Run `make translations-update` and translate these in "
        f"{NL_PO.relative_to(TRANSLATIONS.parent.parent)}:\n" + "\n".join(problems)
    )


def test_the_check_reports_missing_empty_and_fuzzy_translations():
    template = Catalog(locale=None)
    for text in ("Missing", "Empty", "Fuzzy", "Done"):
        template.add(text, locations=[("templates/x.html", None)])
    translations = Catalog(locale="nl")
    translations.add("Empty", "")
    translations.add("Fuzzy", "Vaag", flags=["fuzzy"])
    translations.add("Done", "Klaar")
    problems = untranslated(template, translations)
    assert problems == [
        "untranslated: 'Missing' (templates/x.html)",
        "untranslated: 'Empty' (templates/x.html)",
        "fuzzy: 'Fuzzy' (templates/x.html)",
    ]


def test_dutch_translations_keep_every_placeholder():
    catalog = read_catalog(NL_PO, "nl")
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check()]
    assert not errors


def _programme(client, event, **headers):
    # The test's app context outlives each request, and Flask-Babel caches the locale in it.
    flask_babel.refresh()
    return client.get(f"/events/{event.slug}/", headers=headers).get_data(as_text=True)


def test_the_browser_language_decides_when_the_visitor_has_not_chosen(client, make_event):
    event = make_event(starts_at=datetime(2027, 3, 18, 8, 0, tzinfo=UTC))
    dutch = _programme(client, event, **{"Accept-Language": "nl-NL,nl;q=0.9"})
    assert '<html lang="nl">' in dutch
    assert ">Aanmelden<" in dutch
    assert "donderdag 18 maart 2027, 09:00" in dutch  # 08:00 UTC is 09:00 in Amsterdam
    english = _programme(client, event, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english
    assert ">Register<" in english
    assert "Thursday, March 18, 2027, 09:00" in english


def test_without_a_browser_preference_the_event_language_dutch_is_used(client, make_event):
    event = make_event()
    page = _programme(client, event)
    assert '<html lang="nl">' in page
    assert "Naar de inhoud" in page  # the skip link


def test_the_switcher_overrides_the_browser_and_returns_to_the_page(client, make_event):
    event = make_event()
    back = client.get(f"/lang/en?next=/events/{event.slug}/")
    assert back.status_code == 302
    assert back.headers["Location"].endswith(f"/events/{event.slug}/")
    page = _programme(client, event, **{"Accept-Language": "nl"})
    assert '<html lang="en">' in page
    client.get("/lang/nl")
    page = _programme(client, event, **{"Accept-Language": "en"})
    assert '<html lang="nl">' in page


def test_form_errors_are_in_dutch(client, make_event, make_session):
    event = make_event()
    make_session(event, kind="plenary", title="Opening")
    page = client.post(
        f"/events/{event.slug}/register",
        data={"name": "", "email": "not-an-address"},
        headers={"Accept-Language": "nl"},
    ).get_data(as_text=True)
    assert "Je aanmelding is nog niet compleet." in page
    assert "Ga akkoord met de verwerking van je gegevens om je aan te melden." in page
    assert "This field is required" not in page
    assert "Invalid email address" not in page
