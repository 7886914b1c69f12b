"""API conventions the fuzzer (tests/security/test_fuzz.py) found broken: ids, 404s, the schema."""

import pytest

from marketplace.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _ref(schema, ref):
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


def test_an_unknown_api_address_is_answered_in_the_api_shape(api):
    response = api.get("/api/v1/orders/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"]


def test_an_id_too_large_for_the_database_is_not_found(make_user, api_as, client):
    # SQLite cannot bind an integer above 2**63 - 1: DELETE products/<huge>/images/1/ was a 500.
    huge = 10**21
    farmer = api_as(make_user(Role.FARMER))
    response = farmer.delete(f"/api/v1/products/{huge}/images/1/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert farmer.get(f"/api/v1/orders/{huge}/").status_code == 404
    assert client.get(f"/san-pham/{huge}/").status_code == 404


def test_a_null_character_in_the_query_is_invalid_input(api, client):
    # PostgreSQL refuses text with NUL: `GET wards/?q=…%00` was a 500 there.
    response = api.get("/api/v1/wards/?q=phong%00dien")
    assert response.status_code == 400
    assert list(response.json()) == ["q"]
    assert client.get("/tim-kiem/?q=m%00ang").status_code == 400
    assert api.get("/api/v1/trace/AB%00CD/").json()["code"] == "not_found"


def test_an_unknown_page_is_still_the_404_page(client):
    response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_every_operation_documents_the_conventional_errors(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            label = f"{method.upper()} {path}"
            if {"tokenAuth": []} in operation.get("security", []):
                assert "WWW-Authenticate" in responses["401"]["headers"], label
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                assert "404" in responses, label
            if "requestBody" in operation:
                assert {"400", "415"} <= set(responses), label
            for code, response in responses.items():
                if code.startswith("4"):
                    assert "application/json" in response.get("content", {}), f"{label} {code}"


def test_error_answers_have_their_shapes(schema):
    order = schema["paths"]["/api/v1/orders/{id}/"]["get"]["responses"]
    error = _ref(schema, order["404"]["content"]["application/json"]["schema"])
    assert set(error["required"]) == {"detail", "code"}
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert token["429"]["headers"]["Retry-After"]["required"] is True
    payouts = schema["paths"]["/api/v1/payouts/"]["post"]["responses"]
    assert "403" in payouts
    # Only a role's permission refuses with 403; signing in is enough for the cart.
    assert "403" not in schema["paths"]["/api/v1/cart/"]["get"]["responses"]


def test_blank_and_null_values_are_documented(schema):
    schemas = schema["components"]["schemas"]
    assert {"type": "string", "maxLength": 0} in schemas["User"]["properties"]["email"]["oneOf"]
    from_status = schemas["FarmDecision"]["properties"]["from_status"]["oneOf"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in from_status
    assert schemas["OrderList"]["properties"]["delivery_date"]["nullable"] is True
    assert schemas["FarmOrder"]["properties"]["shipment"]["nullable"] is True
    assert schemas["HouseholdOrder"]["properties"]["shipment"]["nullable"] is True
    assert schemas["HouseholdOrder"]["properties"]["delivery_date"]["nullable"] is True


def test_files_are_documented_with_their_types(schema):
    paths = schema["paths"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for path in ("/api/v1/stats/export/", "/api/v1/stats/exports/{id}/file/"):
        assert {"text/csv", xlsx} <= set(paths[path]["get"]["responses"]["200"]["content"])
    document = paths["/api/v1/certifications/{id}/document/"]["get"]["responses"]["200"]["content"]
    assert {"image/jpeg", "application/pdf"} <= set(document)


def test_a_households_detail_fits_the_private_or_the_public_shape(schema):
    detail = schema["paths"]["/api/v1/farms/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    # A private answer holds every public field: oneOf would refuse it.
    assert "anyOf" in detail["schema"]
