"""PLT-2: token endpoint, authentication, one error body shape, OpenAPI schema and docs."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_token_for_email_and_password(api_client):
    user = UserFactory(email="tina@example.com")
    response = api_client.post(
        "/api/v1/auth/token/", {"email": "TINA@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token
    # the same token again on a second request
    again = api_client.post("/api/v1/auth/token/", {"email": "tina@example.com", "password": PASSWORD}, format="json")
    assert again.json()["token"] == token


def test_token_authenticates_api_requests(api_client):
    user = UserFactory()
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.get("/api/v1/notifications/")
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "nobody@example.com", "password": "whatever-123"},
        {"email": "tina@example.com", "password": "wrong-password"},
    ],
)
def test_wrong_credentials_get_one_message_without_enumeration(api_client, payload):
    UserFactory(email="tina@example.com")
    error = assert_error_shape(
        api_client.post("/api/v1/auth/token/", payload, format="json"), 400, "invalid_credentials"
    )
    assert error["message"] == "Email or password is wrong."


@pytest.mark.parametrize(
    "payload, field",
    [({}, "email"), ({"email": "not-an-email", "password": "x"}, "email"), ({"email": "a@example.com"}, "password")],
)
def test_invalid_token_request_names_the_field(api_client, payload, field):
    error = assert_error_shape(api_client.post("/api/v1/auth/token/", payload, format="json"), 400, "invalid")
    assert field in error["details"]


def test_malformed_json_is_a_400_not_a_500(api_client):
    response = api_client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert_error_shape(response, 400, "parse_error")


def test_anonymous_requests_are_refused_with_401(api_client):
    error = assert_error_shape(api_client.get("/api/v1/notifications/"), 401, "not_authenticated")
    assert error["details"] is None


def test_invalid_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert_error_shape(api_client.get("/api/v1/notifications/"), 401, "authentication_failed")


def test_unknown_object_is_a_404_in_the_error_shape(api_client):
    api_client.force_authenticate(UserFactory())
    assert_error_shape(api_client.get("/api/v1/notifications/999999/"), 404, "not_found")


def test_wrong_method_is_a_405_in_the_error_shape(api_client):
    assert_error_shape(api_client.get("/api/v1/auth/token/"), 405, "method_not_allowed")


def test_session_authentication_for_the_browser(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/api/v1/notifications/").status_code == 200


def test_openapi_schema_as_json_and_yaml(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]
    assert "/api/v1/notifications/" in schema["paths"]
    assert client.get("/api/schema/").status_code == 200


def test_swagger_ui_uses_locally_served_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_a_domain_errors_details_reach_the_api_error_body():
    """A refusal can say what to act on (e.g. the existing duplicate) in `details`, in one place."""
    from portal.api.exceptions import api_exception_handler
    from portal.errors import Conflict

    error = Conflict("Already sent.", code="duplicate_offer", field="customer", details={"existing": {"id": "o-1"}})
    response = api_exception_handler(error, {})
    assert response.status_code == 409
    assert response.data == {
        "error": {
            "code": "duplicate_offer",
            "message": "Already sent.",
            "details": {"customer": ["Already sent."], "existing": {"id": "o-1"}},
        }
    }
