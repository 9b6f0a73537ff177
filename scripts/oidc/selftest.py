"""End-to-end check of the test OpenID provider (scripts/oidc.sh), as a relying party would see it:
discovery, the code flow with PKCE (S256) through the HTML login form, the token exchange (a wrong
code_verifier refused first, a replayed code refused after), and the ID token verified against
the JWKS. Prints the ID token's claims; exits non-zero on the first failure.

  .build/oidc-venv/bin/python scripts/oidc/selftest.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USER PASSWORD

CLIENT_SECRET "-" means a public client: client_id in the token request's body, no secret, and
the provider must refuse it an authorization request without a code_challenge.
"""
import base64
import hashlib
import html
import json
import re
import secrets
import sys
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests


def check(condition, what):
    if not condition:
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")


def to_redirect_uri(session, url, redirect_uri, username=None, password=None):
    """Follows the provider's redirects (posting the login form when it shows one) until one
    leads to redirect_uri; returns that Location, without fetching it."""
    response = session.get(url, allow_redirects=False)
    for _ in range(10):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(redirect_uri):
                return location
            response = session.get(location, allow_redirects=False)
            continue
        page = response.text
        check(response.status_code == 200, f"{response.url.split('?')[0]} answered {response.status_code}")
        check('id="authorize"' not in page, "no consent page")
        if username is None:
            sys.exit(f"FAIL: a login form again at {response.url} (password refused?)")
        check('id="login-submit"' in page, "the login form is shown")
        action = html.unescape(re.search(r'<form method="post" action="([^"]*)"', page).group(1))
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response = session.post(urljoin(response.url, action), allow_redirects=False,
                                data={"csrfmiddlewaretoken": csrf, "username": username, "password": password})
        username = None  # a second login form means the password was refused
    sys.exit("FAIL: too many redirects")


def main(issuer, client_id, client_secret, redirect_uri, username, password):
    public = client_secret in ("-", "")
    session = requests.Session()

    config = session.get(f"{issuer}/.well-known/openid-configuration").json()
    check(config["issuer"] == issuer, f"discovery's issuer is {issuer}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        check(key in config, f"discovery has {key}: {config.get(key)}")
    jwks = session.get(config["jwks_uri"]).json()
    check(len(jwks["keys"]) >= 1, f"JWKS has {len(jwks['keys'])} key(s), kid {jwks['keys'][0]['kid']}")

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid profile email", "state": state, "nonce": nonce,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    authorize = requests.Request("GET", config["authorization_endpoint"], params=params).prepare().url
    location = to_redirect_uri(session, authorize, redirect_uri, username, password)
    query = parse_qs(urlsplit(location).query)
    check("code" in query and query.get("state") == [state], f"redirected to {redirect_uri} with code and state")
    code = query["code"][0]

    def exchange(code_verifier):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        if public:
            return session.post(config["token_endpoint"], data={**data, "client_id": client_id})
        return session.post(config["token_endpoint"], data=data, auth=(client_id, client_secret))  # client_secret_basic

    if not public:
        wrong = session.post(config["token_endpoint"], auth=(client_id, "not-the-secret"),
                             data={"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": redirect_uri, "code_verifier": verifier})
        check(wrong.status_code == 400 and wrong.json().get("error") == "invalid_client",
              f"a wrong client secret is refused: {wrong.status_code} {wrong.json().get('error')}")
    wrong = exchange(secrets.token_urlsafe(48))
    check(wrong.status_code == 400 and wrong.json().get("error") == "invalid_grant",
          f"a wrong code_verifier is refused: {wrong.status_code} {wrong.json().get('error')}")
    tokens = exchange(verifier)
    check(tokens.status_code == 200, f"the code and its code_verifier give tokens: {tokens.status_code}")
    replay = exchange(verifier)
    check(replay.status_code == 400, f"the code cannot be used twice: {replay.status_code} {replay.json().get('error')}")

    id_token = tokens.json()["id_token"]
    header = jwt.get_unverified_header(id_token)
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(id_token, key, algorithms=["RS256"], audience=client_id, issuer=issuer)
    check(header["alg"] == "RS256", f"the ID token is signed {header['alg']} by kid {header['kid']}, verified against the JWKS")
    check(claims["nonce"] == nonce, "the ID token echoes the nonce")
    check(claims.get("preferred_username") == username, "preferred_username is the user")
    check(isinstance(claims.get("groups"), list), f"groups is a list: {claims.get('groups')}")

    if public:
        # Logged in already: straight back to the redirect URI, with an error and no code.
        del params["code_challenge"], params["code_challenge_method"]
        url = requests.Request("GET", config["authorization_endpoint"], params=params).prepare().url
        query = parse_qs(urlsplit(to_redirect_uri(session, url, redirect_uri)).query)
        check(query.get("error") == ["invalid_request"] and "code" not in query,
              f"a public client without code_challenge is refused: {query.get('error')}")

    print("ID token claims:")
    print(json.dumps(claims, indent=2, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    main(*sys.argv[1:])
