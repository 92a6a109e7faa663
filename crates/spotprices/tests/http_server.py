"""A real HTTP server for the tests: it serves recorded documents at the
request paths the tool uses, and logs every request.

    python3 http_server.py ROUTES.json LOG

ROUTES.json is a list of routes, tried in order:
  {"path": "/api", "query": {"in_Domain": "10YNO-1--------2"},
   "responses": [{"status": 503}, {"status": 200, "file": "/abs/doc.xml"}]}
"query" must be a subset of the request's query. The responses are given
in turn; the last repeats. {"drop": true} closes the connection unanswered.
A request that matches no route gets 404. LOG gets one JSON line per request
({"path": ..., "query": {...}}). The port is printed on stdout.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

routes = json.load(open(sys.argv[1]))
log = open(sys.argv[2], "a", buffering=1)
served = [0] * len(routes)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        log.write(json.dumps({"path": url.path, "query": query}) + "\n")
        for i, r in enumerate(routes):
            if r["path"] != url.path:
                continue
            if any(query.get(k) != v for k, v in r.get("query", {}).items()):
                continue
            answers = r["responses"]
            a = answers[min(served[i], len(answers) - 1)]
            served[i] += 1
            if a.get("drop"):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            body = open(a["file"], "rb").read() if "file" in a else a.get("body", "").encode()
            self.send_response(a.get("status", 200))
            self.send_header("Content-Type", a.get("type", "application/xml"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
