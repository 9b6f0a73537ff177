"""What the test provider changes in django-oidc-provider: the claims it puts in ID tokens, the
consent page it skips, PKCE it requires of public clients, and a line of log a request."""
import logging

from oidc_provider import views
from oidc_provider.lib.claims import ScopeClaims
from oidc_provider.lib.endpoints import authorize
from oidc_provider.lib.errors import AuthorizeError

log = logging.getLogger("idp")


def userinfo(claims, user):
    """OIDC_USERINFO: the standard claims of a Django user. Empty values are left out of the
    token, so a user made without --email or --name has no email or name claim."""
    claims["preferred_username"] = user.get_username()
    claims["name"] = user.get_full_name()
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    claims["email"] = user.email
    claims["email_verified"] = True if user.email else None
    return claims


class Claims(ScopeClaims):
    """OIDC_EXTRA_SCOPE_CLAIMS: `groups`, the names of the user's Django groups (a list, maybe
    empty), with the scope profile, or groups."""

    info_groups = ("Groups", "The groups you belong to.")

    def scope_groups(self):
        return {"groups": sorted(self.user.groups.values_list("name", flat=True))}

    scope_profile = scope_groups


class AuthorizeEndpoint(authorize.AuthorizeEndpoint):
    def is_client_allowed_to_skip_consent(self):
        # The library never skips the consent page for a public client in the code flow, even
        # with require_consent off; here a client's require_consent alone decides.
        return True

    def validate_params(self):
        super().validate_params()
        # A public client has no secret: its code must be bound to a code_challenge (PKCE).
        if (self.client.client_type == "public" and self.grant_type == "authorization_code"
                and not self.params["code_challenge"]):
            log.info("[Authorize] public client %s sent no code_challenge", self.client.client_id)
            raise AuthorizeError(self.params["redirect_uri"], "invalid_request", self.grant_type)


class AuthorizeView(views.AuthorizeView):
    authorize_endpoint_class = AuthorizeEndpoint


def log_requests(get_response):
    """Middleware: METHOD PATH -> STATUS [Location], one line a request, to DIR/server.log."""
    def middleware(request):
        response = get_response(request)
        location = f" {response['Location']}" if response.has_header("Location") else ""
        log.info("%s %s -> %s%s", request.method, request.get_full_path(), response.status_code, location)
        return response
    return middleware
