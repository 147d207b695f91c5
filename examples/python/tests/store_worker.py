"""A process of a multi-process shared-store test (test_shared_store.py).

    python3 store_worker.py COMMAND '<json arguments>'

Loads the library from JWTGRANT_LIB, opens a context on the given
configuration (pinned to helpers.T0) and prints one JSON document per line on
stdout. Commands:

  race      register the issuer and the client (identical in every process),
            wait until `start_at` (wall clock), then exchange each assertion
            from `threads` threads at once; prints the HTTP statuses.
  serve     register, exchange one fresh assertion, print the JWKS and the
            access token.
  verify    verify `token` as an access token of ours; print the claims.
  register  register clients reg-0, reg-1, ... forever, printing each id
            once jwtgrant_register_client returned OK (killed by the test).
  loop      exchange fresh assertions for `seconds`, printing each
            (jti, status, http status).
  exchange  register nothing; exchange `assertion`; print the result.
  rotate    register nothing; rotate the secret of `client_id` to
            `new_secret` with `grace_seconds`; print whether it was OK.
  remove    register nothing; remove `client_id`; print whether it was OK.
"""

import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import jwtgrant  # noqa: E402
import helpers  # noqa: E402

BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT = {"client_id": "app", "client_secret": "app-secret", "grant_types": [BEARER]}
AUTH = "Basic YXBwOmFwcC1zZWNyZXQ="   # app:app-secret


def body(assertion):
    return f"grant_type={BEARER.replace(':', '%3A')}&assertion={assertion}"


def out(doc):
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def open_server(a):
    jwtgrant.load(os.environ["JWTGRANT_LIB"])
    s = jwtgrant.Server(a["config"])
    s.set_time(helpers.T0)
    return s


def register(s, a):
    if a.get("issuer"):
        s.register_issuer(a["issuer"])
    s.register_client(CLIENT)


KEY = None   # the issuer's private key (PEM from the test): every process mints with it


def fresh_assertion():
    return helpers.craft({"alg": "ES256"}, helpers.claims(), KEY)


def main():
    global KEY
    command, a = sys.argv[1], json.loads(sys.argv[2])
    if a.get("key_pem"):
        from cryptography.hazmat.primitives import serialization
        KEY = serialization.load_pem_private_key(a["key_pem"].encode(), None)
    s = open_server(a)
    if command == "race":
        register(s, a)
        n = a["threads"]
        barrier = threading.Barrier(n)
        results = []
        lock = threading.Lock()

        def worker(assertion):
            barrier.wait()
            rc, http, _ = s.exchange_token(AUTH, body(assertion))
            with lock:
                results.append(http)

        delay = a["start_at"] - time.time()
        if delay > 0:
            time.sleep(delay)
        statuses = []
        for assertion in a["assertions"]:
            results.clear()
            threads = [threading.Thread(target=worker, args=(assertion,)) for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses.append(sorted(results))
        out({"statuses": statuses})
    elif command == "serve":
        register(s, a)
        rc, http, resp = s.exchange_token(AUTH, body(fresh_assertion()))
        out({"http": http, "token": resp.get("access_token"), "jwks": s.jwks()})
    elif command == "verify":
        try:
            out({"claims": s.verify_access_token(a["token"])})
        except jwtgrant.JWTGrantError as e:
            out({"error": e.name})
    elif command == "register":
        i = 0
        out({"ready": True})
        while True:
            s.register_client({"client_id": f"reg-{i}", "client_secret": f"secret-{i}",
                               "grant_types": [BEARER]})
            out({"ok": f"reg-{i}"})
            i += 1
    elif command == "loop":
        register(s, a)
        out({"ready": True})
        end = time.time() + a["seconds"]
        while time.time() < end:
            assertion = fresh_assertion()
            t0 = time.monotonic()
            rc, http, resp = s.exchange_token(AUTH, body(assertion))
            out({"assertion": assertion, "rc": rc, "http": http, "error": resp.get("error"),
                 "description": resp.get("error_description"), "ms": (time.monotonic() - t0) * 1000})
            time.sleep(0.01)
    elif command == "rotate":
        s.rotate_client_secret(a["client_id"], a["new_secret"], a["grace_seconds"])
        out({"rotated": a["client_id"], "ok": True})
    elif command == "remove":
        try:
            s.remove_client(a["client_id"])
            out({"removed": a["client_id"], "ok": True})
        except jwtgrant.JWTGrantError as e:
            out({"removed": a["client_id"], "ok": False, "error": e.name})
    elif command == "exchange":
        rc, http, resp = s.exchange_token(AUTH, body(a["assertion"]))
        out({"rc": rc, "http": http, "response": resp})
    s.close()


if __name__ == "__main__":
    main()
