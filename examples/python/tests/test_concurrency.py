"""One context, many threads ("Registering and removing issuers while
other threads verify is safe and never yields a wrong answer")."""

import threading

import jwtgrant
from helpers import claims, craft, issuer_json, private_key

ROUNDS = 200


def test_verify_while_another_thread_registers_and_removes(make_server):
    server = make_server()
    server.register_issuer(issuer_json(name="stable", iss="https://stable.example", n=1))
    stable = craft({"alg": "RS256"}, claims(iss="https://stable.example"), private_key("rsa2048", 1))
    churn = craft({"alg": "RS256"}, claims(iss="https://churn.example"), private_key("rsa2048", 2))
    churn_entry = issuer_json(name="churn", iss="https://churn.example", n=2)
    stop = threading.Event()
    wrong = []
    counts = {"ok": 0, "untrusted": 0}
    lock = threading.Lock()

    def verifier():
        while not stop.is_set():
            try:
                assert server.verify_assertion(stable)["_issuer_name"] == "stable"
            except Exception as e:  # noqa: BLE001 - any failure is a wrong answer
                wrong.append(("stable", repr(e)))
            try:
                got = server.verify_assertion(churn)
                ok = got["_issuer_name"] == "churn"
                with lock:
                    counts["ok"] += 1
                if not ok:
                    wrong.append(("churn", got))
            except jwtgrant.JWTGrantError as e:
                if e.name != "JWTGRANT_EUNTRUSTED_ISSUER":
                    wrong.append(("churn", e.name, e.message))
                with lock:
                    counts["untrusted"] += 1

    threads = [threading.Thread(target=verifier) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(ROUNDS):
            server.register_issuer(churn_entry)
            server.remove_issuer("churn")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not wrong, wrong[:5]
    assert counts["ok"] + counts["untrusted"] > 0
    assert [i["name"] for i in server.list_issuers()] == ["stable"]


def test_parallel_verification_of_many_tokens(make_server):
    server = make_server()
    server.register_issuer(issuer_json(fmt="jwks", kind="p256", kid="k"))
    tokens = [craft({"alg": "ES256", "kid": "k"}, claims(sub=f"user{i}"), private_key("p256"))
              for i in range(64)]
    errors = []

    def work(chunk):
        for t, i in chunk:
            try:
                assert server.verify_assertion(t)["sub"] == f"user{i}"
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    pairs = list(zip(tokens, range(64)))
    threads = [threading.Thread(target=work, args=(pairs[k::4] * 5,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
