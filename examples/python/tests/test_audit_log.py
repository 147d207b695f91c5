"""The log and audit callback (jwtgrant_set_log_callback) forwarded to
Python's logging, and the counters (jwtgrant_stats)."""
import base64
import hashlib
import json
import logging
import threading
import urllib.parse

import pytest

import jwtgrant
from helpers import ISS, SUB, assert_no_token_text, claims, craft, issuer_json, private_key

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ID, CLIENT_SECRET = "audit-app", "s3cret-Audit-Value"
RSA = private_key("rsa2048")


def basic(secret=CLIENT_SECRET):
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()


def body(token):
    return f"grant_type={urllib.parse.quote(GRANT, safe='')}&assertion={token}"


@pytest.fixture
def server(make_server):
    s = make_server()
    s.register_issuer(issuer_json())
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    return s


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def captured():
    log = logging.getLogger(jwtgrant.LOGGER_NAME)
    handler = Capture()
    log.addHandler(handler)
    old = log.level
    log.setLevel(logging.DEBUG)
    yield handler.records
    log.removeHandler(handler)
    log.setLevel(old)


def without_sub(record):
    """The message with the verified sub (reported on purpose) taken out:
    nothing else of the token may be in it."""
    sub = record.jwtgrant_event.get("sub")
    message = record.getMessage()
    return message.replace(json.dumps(sub), '"SUB"') if sub else message


def events(records, kind):
    return [r for r in records if r.jwtgrant_event["event"] == kind]


def test_exchange_and_verification_events_reach_logging(server, captured):
    server.log_to_logging()
    token = craft({"alg": "RS256"}, claims(jti="q7Zk-0001"), RSA)
    assert server.verify_assertion(token)
    [v] = events(captured, "verification")
    assert v.levelno == logging.INFO and v.name == "jwtgrant"
    e = v.jwtgrant_event
    assert e["outcome"] == "success" and e["status_name"] == "JWTGRANT_OK"
    assert e["issuer_name"] == "partner" and e["sub"] == SUB
    assert e["jti_hash"] == hashlib.sha256(b"q7Zk-0001").hexdigest()[:16]
    assert v.getMessage().startswith("jwtgrant verification success: {")

    rc, http, answer = server.exchange_token(basic(), body(token))
    assert rc == 0 and http == 200
    [x] = events(captured, "exchange")
    e = x.jwtgrant_event
    assert x.levelno == logging.INFO
    assert e["client_id"] == CLIENT_ID and e["sub"] == SUB and e["http_status"] == 200
    assert isinstance(e["duration_us"], int) and e["duration_us"] >= 0

    rc, http, _ = server.exchange_token(basic(), body(token))
    assert jwtgrant.status_name(rc) == "JWTGRANT_EREPLAY"
    refused = events(captured, "exchange")[-1]
    assert refused.levelno == logging.WARNING
    e = refused.jwtgrant_event
    assert e["outcome"] == "refused" and e["status_name"] == "JWTGRANT_EREPLAY"
    assert e["oauth_error"] == "invalid_grant" and e["http_status"] == 400
    assert e["reason"] and e["client_id"] == CLIENT_ID

    for r in captured:
        assert answer["access_token"] not in r.getMessage()
        assert CLIENT_SECRET not in r.getMessage()
        assert_no_token_text(without_sub(r), token)


def test_refusals_carry_the_detailed_reason_and_no_token_text(server, captured):
    server.log_to_logging()
    expired = craft({"alg": "RS256"}, claims(exp=1, iat=0), RSA)
    forged = craft({"alg": "RS256"}, claims(), private_key("rsa2048", 99))
    hostile = craft({"alg": "RS256", "kid": "../../etc/passwd"}, claims(sub="<script>"), private_key("rsa2048", 99))
    for token, status in [(expired, "JWTGRANT_EEXPIRED"), (forged, "JWTGRANT_ESIGNATURE"),
                          (hostile, "JWTGRANT_ESIGNATURE")]:
        with pytest.raises(jwtgrant.JWTGrantError):
            server.verify_assertion(token)
        record = events(captured, "verification")[-1]
        e = record.jwtgrant_event
        assert record.levelno == logging.WARNING
        assert e["status_name"] == status and e["reason"]
        if status == "JWTGRANT_ESIGNATURE":
            assert e["sub"] is None and e["jti_hash"] is None, "claims of an unverified token are not reported"
        assert_no_token_text(without_sub(record), token)
    # A client that did not authenticate is not named.
    rc, http, _ = server.exchange_token(basic("wrong"), body(expired))
    assert http == 401
    e = events(captured, "exchange")[-1].jwtgrant_event
    assert e["status_name"] == "JWTGRANT_EINVALID_CLIENT" and e["client_id"] is None


def test_jwks_fetch_events(make_server, captured):
    s = make_server()
    s.log_to_logging()
    from helpers import public_jwk
    answers = iter([(200, {"keys": [public_jwk("rsa2048", 0, kid="k1")]}, 300)])
    s.set_jwks_fetcher(lambda name, url, timeout, limit: next(answers, "endpoint down"))
    s.register_issuer({"name": "remote", "issuer": ISS, "jwks_uri": "https://idp.example/jwks"})
    assert s.verify_assertion(craft({"alg": "RS256", "kid": "k1"}, claims(), RSA))
    [f] = events(captured, "jwks_fetch")
    e = f.jwtgrant_event
    assert f.levelno == logging.INFO
    assert e["outcome"] == "success" and e["issuer_name"] == "remote" and e["url"] == "https://idp.example/jwks"
    assert e["http_status"] == 200 and e["keys_loaded"] == 1 and e["next_refresh"] > e["time"]
    assert s.stats()["jwks"] == {"remote": {"fetches": 1, "failures": 0}}


def test_callback_may_call_back_and_can_be_removed(server):
    seen = []

    def fn(level, event):
        seen.append((level, event, server.stats()["verifications"]["total"]))

    server.set_log_callback(fn)
    token = craft({"alg": "RS256"}, claims(), RSA)
    server.verify_assertion(token)
    assert [(lvl, e["event"], n) for lvl, e, n in seen] == [(jwtgrant.LOG_INFO, "verification", 1)]
    server.set_log_callback(None)
    server.verify_assertion(token)
    assert len(seen) == 1


def test_a_raising_callback_does_not_break_the_call(server, captured):
    def fn(level, event):
        raise RuntimeError("host bug")
    server.set_log_callback(fn)
    assert server.verify_assertion(craft({"alg": "RS256"}, claims(), RSA))
    assert any("log callback failed" in r.getMessage() for r in captured)


def test_stats_counts_from_many_threads(server):
    token = craft({"alg": "RS256"}, claims(), RSA)
    bad = craft({"alg": "RS256"}, claims(), private_key("rsa2048", 99))

    def work():
        for _ in range(25):
            server.verify_assertion(token)
            with pytest.raises(jwtgrant.JWTGrantError):
                server.verify_assertion(bad)
            server.exchange_token(basic(), body(bad))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = server.stats()
    assert st["verifications"]["total"] == 200
    assert st["verifications"]["by_status"] == {"JWTGRANT_OK": 100, "JWTGRANT_ESIGNATURE": 100}
    assert st["exchanges"]["total"] == 100 and st["exchanges"]["refused"] == 100
    lat = st["exchanges"]["latency_us"]
    assert 1 <= lat["p50"] <= lat["p90"] <= lat["p99"]
    assert st["replay_store_size"] == 0
    assert st["uptime_seconds"] >= 0 and isinstance(st["since"], int)


def test_stats_before_any_request(make_server):
    st = make_server().stats()
    assert st["exchanges"]["total"] == 0 and st["exchanges"]["latency_us"] == {"p50": None, "p90": None, "p99": None}
    assert st["jwks"] == {} and st["replay_store_size"] == 0


def test_exchange_event_carries_the_detail_the_client_is_not_told(make_server, captured):
    """The HTTP answer's error_description is the status's generic text; the
    exchange event's reason is the detailed one (the rule, the policy field),
    with the trusted issuer, the verified sub and the authenticated client."""
    s = make_server()
    s.register_issuer(dict(issuer_json(), allowed_clients=["someone-else"]))
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    s.log_to_logging()
    token = craft({"alg": "RS256"}, claims(jti="q7Zk-0002"), RSA)
    rc, http, answer = s.exchange_token(basic(), body(token))
    assert jwtgrant.status_name(rc) == "JWTGRANT_ECLIENT_NOT_ALLOWED" and http == 400
    e = events(captured, "exchange")[-1].jwtgrant_event
    assert e["status_name"] == "JWTGRANT_ECLIENT_NOT_ALLOWED" and e["oauth_error"] == answer["error"]
    assert "allowed_clients" in e["reason"]
    assert "allowed_clients" not in answer["error_description"]
    assert e["reason"] != answer["error_description"]
    assert e["issuer_name"] == "partner" and e["sub"] == SUB and e["client_id"] == CLIENT_ID
    assert e["jti_hash"] == hashlib.sha256(b"q7Zk-0002").hexdigest()[:16]
    # Refused by policy, the assertion was not consumed: it still verifies.
    assert s.verify_assertion(token)

    # (The policy runs before the time rules: an expired assertion needs an
    # issuer that allows the client.)
    s.remove_issuer("partner")
    s.register_issuer(issuer_json())
    expired = craft({"alg": "RS256"}, claims(exp=1, iat=0), RSA)
    rc, http, answer = s.exchange_token(basic(), body(expired))
    assert jwtgrant.status_name(rc) == "JWTGRANT_EEXPIRED"
    e = events(captured, "exchange")[-1].jwtgrant_event
    assert answer["error_description"] == "the assertion has expired"
    assert e["reason"] != answer["error_description"] and "(exp)" in e["reason"]
    assert e["issuer_name"] == "partner" and e["sub"] == SUB
