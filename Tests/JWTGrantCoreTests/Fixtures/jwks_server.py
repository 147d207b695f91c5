#!/usr/bin/env python3
"""A misbehaving JWKS endpoint for the RemoteKeySet tests.

Listens on 127.0.0.1 on a free port, prints the port on stdout, serves until
killed; with `--tls CERT KEY` it speaks https. Paths:
  /jwks?kids=a,b[&max_age=N]   a JWKS whose keys have those kids
  /state/<id>                  a JWKS whose kids/delay/max_age are set by
  /set/<id>?kids=a,b[&delay=S][&max_age=N]   (rotation, slow refresh)
  /slow?delay=S                stalls S seconds before sending headers
  /drip                        sends headers, then 1 byte every 200 ms
  /status?code=N               answers HTTP N with a JSON body
  /big[?cl=0]                  a valid JSON document over 51200 bytes
                               (cl=0: no Content-Length, connection close)
  /notjson                     text/plain body
  /notjwks                     JSON that is not a JWKS
  /redirect                    302 to /jwks?kids=a
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

STATE = {}
LOCK = threading.Lock()


def jwks(kids):
    return json.dumps({"keys": [{"kty": "oct", "kid": k, "k": "AAAA"} for k in kids if k]}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json", max_age=None, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if max_age is not None:
            self.send_header("Cache-Control", "public, max-age=%s" % max_age)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        parts = u.path.strip("/").split("/")
        try:
            self.route(parts, q)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, parts, q):
        head = parts[0]
        if head == "jwks":
            self.send(200, jwks(q.get("kids", "a").split(",")), max_age=q.get("max_age"))
        elif head == "set":
            with LOCK:
                STATE[parts[1]] = {"kids": q.get("kids", "").split(","),
                                   "delay": float(q.get("delay", "0")),
                                   "max_age": q.get("max_age")}
            self.send(200, b"{}")
        elif head == "state":
            with LOCK:
                st = dict(STATE.get(parts[1], {"kids": [], "delay": 0, "max_age": None}))
            if st["delay"]:
                time.sleep(st["delay"])
            self.send(200, jwks(st["kids"]), max_age=st["max_age"])
        elif head == "slow":
            time.sleep(float(q.get("delay", "10")))
            self.send(200, jwks(["a"]))
        elif head == "drip":
            body = jwks(["a"])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(0.2)
        elif head == "status":
            self.send(int(q.get("code", "500")), b'{"error":"boom"}')
        elif head == "big":
            pad = "x" * 60000
            body = json.dumps({"keys": [{"kty": "oct", "kid": "a", "k": "AAAA", "pad": pad}]}).encode()
            if q.get("cl") == "0":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for i in range(0, len(body), 4096):
                    self.wfile.write(body[i:i + 4096])
                    self.wfile.flush()
            else:
                self.send(200, body)
        elif head == "notjson":
            self.send(200, b"<html>hello</html>", ctype="text/html")
        elif head == "notjwks":
            self.send(200, b'{"issuer":"https://example.com"}')
        elif head == "redirect":
            self.send(302, b"", extra=[("Location", "/jwks?kids=a")])
        else:
            self.send(404, b'{"error":"not found"}')


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
