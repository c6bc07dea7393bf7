#!/usr/bin/env python3
"""Stand-in for EVA's REST API on the eva-ha drill node (the container eva-rest,
started by start-master-rhel.sh).

Serves what the guide checks after a failover, `curl -u USER:PASSWORD -X GET
https://<masterIp>:3000/versions`: HTTPS on port 3000 with the node's self-signed
certificate, HTTP basic auth, and GET /versions answering
{"versions": {"master": ..., "api": ..., "host": <this node>}} (the host tells a drill
which node answered). Anything else: 401 without the right credentials, else 404.

Environment (docker run --env-file /etc/eva-drill/eva-rest.env): EVA_REST_USER,
EVA_REST_PASSWORD, and optionally EVA_REST_PORT (3000), EVA_REST_CERT and EVA_REST_KEY
(/etc/eva-drill/tls/cert.pem, key.pem). One thread per connection; the TLS handshake
happens in that thread with a 10 s timeout, so a client that stalls or speaks plain HTTP
holds up no one else.
"""

import base64
import binascii
import hmac
import http.server
import json
import os
import signal
import socket
import ssl
import sys

USER = os.environ["EVA_REST_USER"].encode()
PASSWORD = os.environ["EVA_REST_PASSWORD"].encode()
PORT = int(os.environ.get("EVA_REST_PORT", "3000"))
CERT = os.environ.get("EVA_REST_CERT", "/etc/eva-drill/tls/cert.pem")
KEY = os.environ.get("EVA_REST_KEY", "/etc/eva-drill/tls/key.pem")
VERSIONS = json.dumps(
    {"versions": {"master": "3.2.0-drill", "api": "1.4", "host": socket.gethostname()}}
).encode()


def authorised(header):
    """Whether an Authorization header carries the right user and password."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return False
    # Both compared, always: no early exit that tells a wrong user from a wrong password.
    ok_user = hmac.compare_digest(user, USER)
    ok_password = hmac.compare_digest(password, PASSWORD)
    return bool(sep) and ok_user and ok_password


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "eva-rest-standin/1"
    protocol_version = "HTTP/1.1"
    timeout = 10

    def answer(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if not authorised(self.headers.get("Authorization")):
            self.answer(401, b'{"error": "unauthorized"}', [("WWW-Authenticate", 'Basic realm="EVA"')])
        elif self.path.split("?", 1)[0] == "/versions":
            self.answer(200, VERSIONS)
        else:
            self.answer(404, b'{"error": "not found"}')

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A failed handshake or a dropped client: one line, no traceback.
        print("%s: %s" % (client_address[0], sys.exc_info()[1]), file=sys.stderr)


def main():
    # PID 1 of its container: without a handler the kernel ignores docker stop's SIGTERM
    # and the engine waits 10 s before SIGKILL; a service exits on it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(CERT, KEY)
    server = Server(("0.0.0.0", PORT), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print("EVA REST stand-in: https://0.0.0.0:%d/versions" % PORT, file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
