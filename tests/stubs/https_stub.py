#!/usr/bin/env python3
"""An HTTPS CRM and webhook receiver for the end-to-end tests, on Python's own http.server and
ssl modules (a real TLS server we did not write).

    https_stub.py PORT CERT KEY RECEIVED

GET /customers/by-phone/<number> answers a customer as JSON; POST /hook appends the body as
one line to RECEIVED and answers 200. Anything else is 404.
"""
import http.server
import json
import ssl
import sys

port, cert, key, received = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/customers/by-phone/"):
            self.answer(200, {"name": "Anna Nowak", "debt": {"overdue_days": 45}})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        if self.path == "/hook":
            with open(received, "a") as out:
                out.write(body.replace("\n", " ") + "\n")
            self.answer(200, {})
        else:
            self.answer(404, {"error": "not found"})


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", flush=True)
server.serve_forever()
