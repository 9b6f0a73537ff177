#!/usr/bin/env python3
"""A real SMTP server for the reminder tests that insists on STARTTLS and a login (aiosmtpd).

Usage: smtp_tls_server.py CERT.pem KEY.pem MAILDIR PORT USER PASSWORD [implicit]

Listens on 127.0.0.1:PORT; refuses MAIL before STARTTLS and before AUTH (PLAIN or LOGIN, accepted
only over TLS for USER/PASSWORD); writes what it accepts to MAILDIR. With `implicit`, TLS from the
first byte (as on port 465) instead of STARTTLS. Prints "ready" when it listens. It ignores
SIGTERM while serving: stop it with SIGKILL.
"""
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main(argv):
    cert, key, maildir, port, user, password = argv[1:7]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        # handled=False: aiosmtpd answers a refusal itself (535); handled=True would leave the client waiting.
        return AuthResult(success=ok, handled=False)

    if len(argv) > 7 and argv[7] == "implicit":
        # The whole connection is TLS; aiosmtpd only counts STARTTLS as TLS for auth_require_tls.
        controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port), ssl_context=context,
                                auth_required=True, auth_require_tls=False, authenticator=authenticate)
    else:
        controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port), tls_context=context,
                                require_starttls=True, auth_required=True, auth_require_tls=True,
                                authenticator=authenticate)
    controller.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv)
