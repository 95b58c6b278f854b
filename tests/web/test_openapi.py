"""The OpenAPI document describes exactly the API's routes, and is a valid OpenAPI 3.1."""

import re

from openapi_spec_validator import validate

from eventapp.api.openapi import openapi_document

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
