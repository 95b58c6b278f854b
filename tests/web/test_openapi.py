"""The OpenAPI document describes exactly the API's routes, and is a valid OpenAPI 3.1."""

import re

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from eventapp.api.openapi import openapi_document
from eventapp.extensions import db

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def documented_operations() -> set[tuple[str, str]]:
    operations = set()
    for path, item in openapi_document()["paths"].items():
        for method in item:
            operations.add((path, method.upper()))
    return operations


def routed_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            operations.add((path, method))
    return operations


def test_every_route_is_documented_and_every_documented_path_exists(app):
    routed = routed_operations(app)
    documented = documented_operations()
    assert routed - documented == set(), "routes without @operation (eventapp/api/openapi.py)"
    assert documented - routed == set(), "documented operations that no route serves"


def test_document_is_valid_openapi_and_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")


def test_path_parameters_match_the_path_templates():
    for path, item in openapi_document()["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for method, operation in item.items():
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            declared = {p["name"] for p in parameters if p["in"] == "path"}
            assert names == declared, (method, path)


def test_organiser_operations_declare_bearer_auth_and_their_errors():
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if "organiser" not in operation.get("tags", []):
                continue
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            if "requestBody" in operation:
                assert {"400", "422"} <= set(operation["responses"]), (method, path)


def body_schema(document: dict, path: str, method: str) -> dict:
    operation = document["paths"][path][method]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_documented_time_format_takes_29_february_as_the_server_does(
    client, make_organiser, api_token
):
    """The hand-written document's ISO pattern left 29 February out, so a client checking
    its body against the document refused a date the server takes."""
    document = client.get("/api/v1/openapi.json").get_json()
    event = {
        "slug": "leap",
        "name": "Leap day",
        "starts_at": "2028-02-29T09:00:00+01:00",
        "ends_at": "2028-02-29T17:00",
    }
    schema = body_schema(document, "/api/v1/events", "post")
    checker = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(checker.iter_errors(event)) == []
    assert list(checker.iter_errors({**event, "ends_at": "2028-02-29T16:00:00Z"})) == []
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    created = client.post("/api/v1/events", json=event, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["starts_at"] == "2028-02-29T09:00:00+01:00"


def test_field_errors_are_the_forms_reasons_per_field(client, make_event, make_session):
    """The schema checks text with the form's own rule: trimmed first, then judged."""
    event = make_event(slug="rules")
    session = make_session(event, kind="plenary")
    sent = {"name": "  ", "email": "nope", "session_ids": [session.id], "consent": True}
    english = {"Accept-Language": "en"}
    refused = client.post("/api/v1/events/rules/registrations", json=sent, headers=english)
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "invalid"
    assert refused.get_json()["fields"] == {
        "name": ["This field is required."],
        "email": ["This is not a valid email address."],
    }
    sent.update(name=" Ada Lovelace\n", email="ada@example.org")
    accepted = client.post("/api/v1/events/rules/registrations", json=sent, headers=english)
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["name"] == "Ada Lovelace"


def test_the_reference_page_is_served_from_the_document_without_outside_scripts(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "POST /api/v1/events/{slug}/registrations" in html
    assert 'id="schema-RegistrationIn"' in html
    assert "consent" in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert all('src="/static/' in tag for tag in scripts), scripts
    assert "script-src" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"].split("script-src")[1]


def reply_validator(document: dict, path: str, method: str, status: str) -> Draft202012Validator:
    """A validator for the documented reply, its $refs resolved within the document."""
    answer = document["paths"][path][method]["responses"][status]
    registry = Registry().with_resource(
        "urn:eventapp-api", Resource(contents=document, specification=DRAFT202012)
    )
    schema = answer["content"]["application/json"]["schema"]
    return Draft202012Validator(
        {"$ref": "urn:eventapp-api" + schema["$ref"]},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def test_the_replies_are_what_the_document_says(
    client, make_event, make_session, make_room, make_organiser, api_token
):
    """The replies are serialised by the schemas the document is generated from; checked
    here from outside, reply by reply, against the served document."""
    event = make_event(slug="doc")
    room = make_room(event)
    plenary = make_session(event, start=0, kind="plenary", capacity=100, room=room)
    small = make_session(event, start=1, capacity=1)
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    plenary_id, small_id = plenary.id, small.id
    document = client.get("/api/v1/openapi.json").get_json()
    first = {"name": "Ada", "email": "ada@example.org", "consent": True}
    registered = client.post(
        "/api/v1/events/doc/registrations", json={**first, "session_ids": [plenary_id, small_id]}
    )
    second = {**first, "email": "bob@example.org", "session_ids": [small_id], "waitlist": True}
    client.post("/api/v1/events/doc/registrations", json=second)
    token = registered.get_json()["manage_url"].rsplit("/", 1)[1]
    # The requests share the test's app context and so its session; end the transaction the
    # last POST's reply began, or on SQLite the token's use (noted on a connection of its
    # own) waits for its write lock.
    db.session.commit()

    def call(method: str, url: str, body: dict | None = None):
        return client.open(url, method=method.upper(), json=body, headers=headers)

    replies = [
        ("post", "/api/v1/events/{slug}/registrations", registered),
        ("get", "/api/v1/events", call("get", "/api/v1/events")),
        ("get", "/api/v1/events/{slug}", call("get", "/api/v1/events/doc")),
        ("get", "/api/v1/events/{slug}/sessions", call("get", "/api/v1/events/doc/sessions")),
        ("get", "/api/v1/registrations/{token}", call("get", f"/api/v1/registrations/{token}")),
        (
            "get",
            "/api/v1/events/{slug}/registrations",
            call("get", "/api/v1/events/doc/registrations"),
        ),
        (
            "get",
            "/api/v1/sessions/{session_id}/waitlist",
            call("get", f"/api/v1/sessions/{small_id}/waitlist"),
        ),
        ("get", "/api/v1/events/{slug}/conflicts", call("get", "/api/v1/events/doc/conflicts")),
        (
            "patch",
            "/api/v1/sessions/{session_id}",
            call("patch", f"/api/v1/sessions/{small_id}", {"capacity": 2}),
        ),
    ]
    assert list(reply_validator(document, "/api/v1/events/{slug}", "get", "200").iter_errors({}))
    for method, template, response in replies:
        status = str(response.status_code)
        assert status in ("200", "201"), (template, response.get_json())
        validator = reply_validator(document, template, method, status)
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert errors == [], (template, errors)
    refused = client.post("/api/v1/events/doc/registrations", json={"consent": False})
    errors = reply_validator(document, "/api/v1/events/{slug}/registrations", "post", "422")
    assert list(errors.iter_errors(refused.get_json())) == []
