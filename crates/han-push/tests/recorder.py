"""A recording HTTP server for han-push's tests (standing in for Domoticz
and InfluxDB 2.x, which Debian does not package).

    python3 recorder.py LOG [ANSWERS.json]

Every request (any method, any path) is answered with the next answer of
ANSWERS.json, a list of {"status": 200, "body": "...", "type": "..."}
given in turn, the last repeating; without the file: 200
{"status":"OK","title":"Update Device"} (Domoticz's answer). LOG gets one
JSON line per request, written before the answer is sent:
{"method", "path", "query": {...}, "headers": {lower-case name: value},
"body": text}. The port is printed on stdout.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

log = open(sys.argv[1], "a", buffering=1)
answers = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else [
    {"status": 200, "body": '{"status":"OK","title":"Update Device"}', "type": "application/json"}
]
served = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        log.write(json.dumps({
            "method": self.command,
            "path": url.path,
            "query": dict(parse_qsl(url.query, keep_blank_values=True)),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }) + "\n")
        a = answers[min(served[0], len(answers) - 1)]
        served[0] += 1
        out = a.get("body", "").encode()
        self.send_response(a.get("status", 200))
        self.send_header("Content-Type", a.get("type", "application/json"))
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = answer
    do_POST = answer


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
