"""An SMTP server for maxpower's mail tests: aiosmtpd with TLS (STARTTLS
required, or implicit) and a login, delivering to a maildir.

Usage: smtp_server.py PORT MAILDIR CERT KEY starttls|tls USER PASSWORD
"""
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

port, maildir, cert, key, mode, user, password = sys.argv[1:8]


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user.encode()
        and auth_data.password == password.encode()
    )
    # handled=False: aiosmtpd answers 535 itself.
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
common = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticate, auth_required=True)
if mode == "starttls":
    controller = Controller(Mailbox(maildir), tls_context=context, require_starttls=True, auth_require_tls=True, **common)
else:
    controller = Controller(Mailbox(maildir), ssl_context=context, auth_require_tls=False, **common)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
