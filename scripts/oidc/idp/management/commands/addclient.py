"""manage.py addclient CLIENT_ID REDIRECT_URI [--public]: registers (or re-registers) a client of
the code flow, RS256 ID tokens, no consent page. Prints "CLIENT_ID SECRET", or "CLIENT_ID" for a
public client."""
import secrets

from django.core.management.base import BaseCommand
from oidc_provider.models import Client, ResponseType


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("client_id")
        parser.add_argument("redirect_uri")
        parser.add_argument("--public", action="store_true", help="no secret: PKCE binds its codes")

    def handle(self, client_id, redirect_uri, public, **options):
        client, _ = Client.objects.get_or_create(client_id=client_id)
        client.name = client_id
        client.client_type = "public" if public else "confidential"
        client.client_secret = "" if public else secrets.token_hex(24)
        client.jwt_alg = "RS256"
        client.redirect_uris = [redirect_uri]
        client.scope = ["openid", "profile", "email", "groups"]
        client.require_consent = False
        client.reuse_consent = True
        client.save()
        client.response_types.set([ResponseType.objects.get(value="code")])
        self.stdout.write(client_id if public else f"{client_id} {client.client_secret}")
