"""`POST /api/v1/auth/token/` with {"email", "password"} → {"token"} (PLT-2).

Two guards, both answered with the API's error shape, status 429 and `Retry-After`: the rate
throttle (`throttled`; fails open while the cache is down, see `portal.api.throttling`) and the
login lockout of django-axes (`locked_out`, answered by `portal.login_lockout.lockout_response`).
"""

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.errors import InvalidInput

from .throttling import PortalAnonRateThrottle


class TokenThrottle(PortalAnonRateThrottle):
    scope = "token"


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenView(APIView):
    """Exchange email and password for an API token (`Authorization: Token …`)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Invalid input or wrong email/password (`invalid_credentials`)."),
            429: OpenApiResponse(
                description="Too many requests (`throttled`) or failed logins (`locked_out`); see `Retry-After`."
            ),
        },
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["email"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            # One message for unknown email and wrong password: no account enumeration.
            raise InvalidInput(_("Email or password is wrong."), code="invalid_credentials")
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
