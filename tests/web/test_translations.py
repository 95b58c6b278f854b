"""Two languages: every wrapped string has a Dutch translation, the language follows the
visitor's choice, then the browser, then the event; dates are written the local way."""

import re
from datetime import UTC, datetime

import flask_babel
import pytest
from babel.messages.catalog import Catalog
from jinja2 import Environment

from tests.catalogs import ROOT, TRANSLATIONS, extract_messages, read_catalog

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


# The formal Dutch address ("u", "uw", "hebt u"); the interface and the emails say "je".
FORMAL_DUTCH = re.compile(r"\b(?:[Uu]|[Uu]w)\b")


def test_dutch_translations_address_people_with_je_throughout():
    """Issue 20: the email about a move that would double-book an attendee said "u" and
    "uw" between lines that say "je", and so did the erasure email and one hint."""
    catalog = read_catalog(NL_PO, "nl")
    formal = [
        m.id
        for m in catalog
        if m.id
        for text in (m.string if isinstance(m.string, tuple) else (m.string,))
        if text and FORMAL_DUTCH.search(re.sub(r"%\(\w+\)s", "", text))
    ]
    assert formal == []


# Text people read that is not inside {{ _("...") }}: between tags, and in these attributes.
READ_ATTRIBUTES = re.compile(
    r'(?<![-\w])(?:aria-label|aria-description|title|placeholder|alt)\s*=\s*"([^"]*)"'
)
CLASS_NAMES = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")  # is-full, wrap-wide: CSS, not words
ACRONYMS = re.compile(r"\b[A-Z]{2,}\b")  # CSV, ICS, JSON, QR: the same in both languages
WORD = re.compile(r"[A-Za-z]{2,}")


def unwrapped_text(source: str) -> list[tuple[int, str]]:
    """(line, text) for literal words in a template, outside Jinja tags and HTML markup."""
    lexer = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    literal = "".join(
        value if kind == "data" else "\n" * value.count("\n") + "\x00"
        for _line, kind, value in lexer.lex(source)
    )

    def blank(match):  # a space, or the newlines, so line numbers stay right
        return "\n" * match.group(0).count("\n") or " "

    literal = re.sub(r"<!--.*?-->|<(script|style)\b.*?</\1>", blank, literal, flags=re.S)
    found = []
    for match in READ_ATTRIBUTES.finditer(literal):
        found.append((literal.count("\n", 0, match.start()) + 1, match.group(1)))
    text = re.sub(r"<[^>]*>", blank, literal)
    text = re.sub(r"&#?\w+;", " ", text)
    found.extend((number, line) for number, line in enumerate(text.split("\n"), start=1))
    results = []
    for number, line in found:
        words = ACRONYMS.sub(" ", CLASS_NAMES.sub(" ", line.replace("\x00", " ")))
        if WORD.search(words):
            results.append((number, " ".join(line.replace("\x00", " ").split())))
    return sorted(results)


def test_templates_have_no_text_outside_translation_calls():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            for line, text in unwrapped_text(path.read_text()):
                problems.append(f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}")
    assert not problems, "Wrap these in {{ _(...) }}:\n" + "\n".join(problems)


def test_the_template_check_finds_literal_text():
    source = (
        '<p class="is-full">{{ _("Fine") }}</p>\n<a title="Plain English">{{ x }}</a>\n'
        "<td>{{ n }} CSV</td><td>Not wrapped</td>\n<!-- a comment -->{% if x %}ok{% endif %}"
    )
    assert unwrapped_text(source) == [(2, "Plain English"), (3, "CSV Not wrapped"), (4, "ok")]


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
