"""The per-issuer trust policy (the optional policy fields of issuer_json)
through the C ABI: for each field the allowed case, the refused case with its
status and RFC 6749 error through jwtgrant_exchange_token, the assertion
still usable after a policy refusal, and the field in jwtgrant_list_issuers;
two issuers asserting the same sub; malformed fields at registration."""

import base64
import json
from urllib.parse import quote

import pytest

import jwtgrant
from helpers import (ISS, SUB, T0, assert_no_token_text, assert_rejected, claims, issuer_json, mint,
                     private_key)

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RSA0, RSA1 = private_key("rsa2048", 0), private_key("rsa2048", 1)
ISS2 = "https://second-issuer.example.org"
SECRET = "s3cret-Value"


def token(key=RSA0, **over):
    return mint("pyjwt", "RS256", key, claims(**over))


def policy_server(make_server, config=None, **policy):
    """A server trusting ISS ("partner") with `policy`, and three clients:
    app (scopes read, write), other (scopes anything, admin, read, write:
    wider than any issuer policy of these tests), short (60 s tokens)."""
    s = make_server(config)
    s.register_issuer({**issuer_json(), **policy})
    s.register_client({"client_id": "app", "client_secret": SECRET, "grant_types": [GRANT],
                       "scopes": ["read", "write"]})
    s.register_client({"client_id": "other", "client_secret": SECRET, "grant_types": [GRANT],
                       "scopes": ["anything", "admin", "read", "write"]})
    return s


def change_policy(s, **policy):
    """A policy change is a re-registration (documented in the header)."""
    s.remove_issuer("partner")
    s.register_issuer({**issuer_json(), **policy})


def exchange(s, assertion, client="app", scope=None):
    body = f"grant_type={quote(GRANT, safe='')}&assertion={quote(assertion, safe='')}"
    if scope is not None:
        body += "&scope=" + quote(scope, safe="")
    auth = "Basic " + base64.b64encode(f"{client}:{SECRET}".encode()).decode()
    return s.exchange_token(auth, body)


def access_claims(s, result):
    rc, http, body = result
    assert (rc, http) == (0, 200), body
    return s.verify_access_token(body["access_token"])


def assert_refused(result, status_name, assertion, error="invalid_grant"):
    rc, http, body = result
    assert jwtgrant.status_name(rc) == status_name, body
    assert jwtgrant.oauth_error(rc) == error
    assert http == 400
    assert body["error"] == error and "access_token" not in body
    assert_no_token_text(body["error_description"], assertion)


def listed(s):
    (entry,) = s.list_issuers()
    return entry


def test_defaults_keep_todays_behaviour_and_are_listed(make_server):
    s = policy_server(make_server)
    c = access_claims(s, exchange(s, token(jti=None), client="other", scope="anything"))
    assert c["sub"] == SUB and c["idp"] == ISS and c["scope"] == "anything"
    e = listed(s)
    assert e["subject_format"] == "{sub}"
    assert e["expired"] is False and e["require_jti"] is False
    for k in ("allowed_subjects", "allowed_scopes", "allowed_clients", "expires_at",
              "max_assertion_lifetime", "iat_validity_period"):
        assert e[k] is None, k


def test_allowed_subjects(make_server):
    s = policy_server(make_server, allowed_subjects=[SUB, "caf\u00e9"])
    assert access_claims(s, exchange(s, token()))["sub"] == SUB
    refused = token(sub="mallory")
    assert_refused(exchange(s, refused), "JWTGRANT_ESUBJECT_NOT_ALLOWED", refused)
    assert_rejected(s, refused, "JWTGRANT_ESUBJECT_NOT_ALLOWED")
    # bytes, not Unicode equivalence: e + combining acute is another subject
    decomposed = token(sub="cafe\u0301")
    assert_refused(exchange(s, decomposed), "JWTGRANT_ESUBJECT_NOT_ALLOWED", decomposed)
    assert listed(s)["allowed_subjects"] == [SUB, "caf\u00e9"]
    # not consumed by the refusal
    change_policy(s, allowed_subjects=["mallory"])
    assert exchange(s, refused).status == 0
    assert_refused(exchange(s, refused), "JWTGRANT_EREPLAY", refused)


def test_allowed_clients(make_server):
    s = policy_server(make_server, allowed_clients=["app"])
    t = token()
    assert_refused(exchange(s, t, client="other"), "JWTGRANT_ECLIENT_NOT_ALLOWED", t)
    # verification alone has no client: allowed_clients is skipped there
    assert s.verify_assertion(t)["sub"] == SUB
    # not consumed: the listed client exchanges it, once
    assert access_claims(s, exchange(s, t, client="app"))["client_id"] == "app"
    assert_refused(exchange(s, t, client="app"), "JWTGRANT_EREPLAY", t)
    assert listed(s)["allowed_clients"] == ["app"]


def test_allowed_scopes(make_server):
    s = policy_server(make_server, allowed_scopes=["read"])
    t = token()
    assert_refused(exchange(s, t, scope="read write"), "JWTGRANT_EINVALID_SCOPE", t, "invalid_scope")
    assert_refused(exchange(s, t, client="other", scope="admin"), "JWTGRANT_EINVALID_SCOPE", t, "invalid_scope")
    assert access_claims(s, exchange(s, t, scope="read"))["scope"] == "read"   # not consumed before
    assert "scope" not in access_claims(s, exchange(s, token()))              # none asked, none granted
    assert listed(s)["allowed_scopes"] == ["read"]


def test_trust_expiry(make_server):
    s = policy_server(make_server, expires_at=T0 + 100)
    t = token()
    assert listed(s)["expires_at"] == T0 + 100 and listed(s)["expired"] is False
    s.set_time(T0 + 101)
    assert_refused(exchange(s, t), "JWTGRANT_EISSUER_EXPIRED", t)
    assert_rejected(s, t, "JWTGRANT_EISSUER_EXPIRED")
    assert listed(s)["expired"] is True
    # an extended trust accepts the same assertion: it was not consumed
    change_policy(s, expires_at=T0 + 1000)
    assert exchange(s, t).status == 0


def test_require_jti(make_server):
    s = policy_server(make_server, require_jti=True)
    t = token(jti=None)
    assert_refused(exchange(s, t), "JWTGRANT_EJTI_REQUIRED", t)
    assert_rejected(s, t, "JWTGRANT_EJTI_REQUIRED")
    assert exchange(s, token()).status == 0
    assert listed(s)["require_jti"] is True
    change_policy(s, require_jti=False)
    assert exchange(s, t).status == 0


def test_max_assertion_lifetime_per_issuer(make_server):
    s = policy_server(make_server, {"grant_type": {"jwt": {"max_assertion_lifetime": 3600}}},
                      max_assertion_lifetime=60)
    t = token(exp=T0 + 300)
    assert_refused(exchange(s, t), "JWTGRANT_EASSERTION_LIFETIME", t)
    assert exchange(s, token(exp=T0 + 60)).status == 0
    assert listed(s)["max_assertion_lifetime"] == 60
    change_policy(s)   # back to the server-wide 3600 s
    assert exchange(s, t).status == 0


def test_iat_validity_period_per_issuer(make_server):
    s = policy_server(make_server, {"grant_type": {"jwt": {"enable_iat_validation": False}}},
                      iat_validity_period=1)
    t = token(iat=T0 - 120)
    assert_refused(exchange(s, t), "JWTGRANT_EIAT_TOO_OLD", t)
    assert exchange(s, token(iat=T0 - 30)).status == 0
    assert listed(s)["iat_validity_period"] == 1
    change_policy(s)   # iat validation off server-wide
    assert exchange(s, t).status == 0


def test_access_token_lifetime_per_client(make_server):
    s = policy_server(make_server)
    s.register_client({"client_id": "short", "client_secret": SECRET, "grant_types": [GRANT],
                       "access_token_lifetime": 60})
    rc, http, body = exchange(s, token(), client="short")
    assert rc == 0 and body["expires_in"] == 60
    c = s.verify_access_token(body["access_token"])
    assert c["exp"] - c["iat"] == 60
    c = access_claims(s, exchange(s, token()))
    assert c["exp"] - c["iat"] == 3600
    for bad in (0, -1, 31_536_001, 1.5, "60", None, True):
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            s.register_client({"client_id": f"bad-{bad}", "access_token_lifetime": bad})
        assert ei.value.name == "JWTGRANT_EINVAL" and "access_token_lifetime" in ei.value.message


def test_two_issuers_with_the_same_sub_are_told_apart(make_server):
    s = make_server()
    s.register_issuer(issuer_json())
    s.register_issuer(issuer_json(name="second", iss=ISS2, n=1))
    s.register_client({"client_id": "app", "client_secret": SECRET, "grant_types": [GRANT]})
    a = access_claims(s, exchange(s, token()))
    b = access_claims(s, exchange(s, token(RSA1, iss=ISS2)))
    # default subject_format: the same sub, told apart by the idp claim
    assert a["sub"] == b["sub"] == SUB
    assert (a["idp"], b["idp"]) == (ISS, ISS2)
    # a prefixing subject_format: told apart by sub alone
    for name, iss, n in (("partner", ISS, 0), ("second", ISS2, 1)):
        s.remove_issuer(name)
        s.register_issuer({**issuer_json(name=name, iss=iss, n=n), "subject_format": "{name}|{sub}"})
    a = access_claims(s, exchange(s, token()))
    b = access_claims(s, exchange(s, token(RSA1, iss=ISS2)))
    assert a["sub"] == "partner|" + SUB and b["sub"] == "second|" + SUB
    assert [e["subject_format"] for e in s.list_issuers()] == ["{name}|{sub}"] * 2
    # {issuer} and literal text; verification alone keeps the assertion's sub
    s.remove_issuer("second")
    s.register_issuer({**issuer_json(name="second", iss=ISS2, n=1), "subject_format": "{issuer}#{sub}"})
    assert access_claims(s, exchange(s, token(RSA1, iss=ISS2)))["sub"] == ISS2 + "#" + SUB
    assert s.verify_assertion(token(RSA1, iss=ISS2))["sub"] == SUB


@pytest.mark.parametrize("field,value", [
    ("allowed_subjects", "alice"), ("allowed_subjects", [""]),
    ("allowed_subjects", [1]), ("allowed_subjects", None),
    ("allowed_scopes", ["a b"]), ("allowed_scopes", ['q"uote']), ("allowed_scopes", {}),
    ("allowed_clients", "app"), ("allowed_clients", [None]),
    ("subject_format", "{user}"), ("subject_format", "{name}"), ("subject_format", "{sub"),
    ("subject_format", "}{sub}"), ("subject_format", ""), ("subject_format", 1),
    ("expires_at", "2027-01-01"), ("expires_at", -1), ("expires_at", 1e300), ("expires_at", None),
    ("require_jti", "yes"), ("require_jti", 1),
    ("max_assertion_lifetime", -1), ("max_assertion_lifetime", 1.5), ("max_assertion_lifetime", 315_360_001),
    ("iat_validity_period", 0), ("iat_validity_period", True), ("iat_validity_period", 525_601),
])
def test_malformed_policy_fields_are_refused_naming_the_field(server, field, value):
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        server.register_issuer({**issuer_json(), field: value})
    assert ei.value.name == "JWTGRANT_EINVAL"
    assert field in ei.value.message, ei.value.message
    assert server.list_issuers() == []


def test_policy_messages_hold_no_token_text(make_server):
    s = policy_server(make_server, allowed_subjects=["x"], allowed_clients=["app"])
    t = token(sub="secret-subject-value-1234")
    rc, _, body = exchange(s, t, client="other")
    assert "secret-subject-value" not in json.dumps(body)
    assert_no_token_text(body["error_description"], t)


POLICY_STATUSES = {"JWTGRANT_ESUBJECT_NOT_ALLOWED", "JWTGRANT_ECLIENT_NOT_ALLOWED", "JWTGRANT_EISSUER_EXPIRED",
                   "JWTGRANT_EJTI_REQUIRED", "JWTGRANT_EINVALID_SCOPE", "JWTGRANT_EASSERTION_LIFETIME",
                   "JWTGRANT_EIAT_TOO_OLD", "JWTGRANT_EREPLAY"}


def test_random_policies_register_or_are_refused_and_never_crash(make_server):
    """Seeded random values for every policy field: registration succeeds or
    is JWTGRANT_EINVAL naming a policy field; a registered policy answers an
    exchange with 200 or one of the policy's statuses, never echoing the
    assertion's sub."""
    import random
    rng = random.Random("libjwtgrant-issuer-policy")
    subs = [SUB, "", "{sub}", "caf\u00e9", "x" * 300, "\U0001F600", "}{", "|"]
    values = {
        "allowed_subjects": lambda: rng.choice([[rng.choice(subs) for _ in range(rng.randrange(4))], "x", 1, None]),
        "subject_format": lambda: rng.choice(["{sub}", "{name}|{sub}", "{issuer}{sub}{sub}", "{", "}", "{{sub}}",
                                              "{SUB}", "{sub", "a\u0000{sub}", "\u00e9{sub}\U0001F600", "", 5]),
        "allowed_scopes": lambda: rng.choice([["read"], ["read", "write"], [], ["a b"], ["\u00e9"], "read", None]),
        "allowed_clients": lambda: rng.choice([["app"], ["other", "app"], [], ["APP"], [""], {}]),
        "expires_at": lambda: rng.choice([T0 - 1, T0, T0 + 0.5, T0 + 10**6, -1, 2**63, 1e308, "x", True]),
        "require_jti": lambda: rng.choice([True, False, 0, "true"]),
        "max_assertion_lifetime": lambda: rng.choice([0, 1, 60, 10**6, -1, 2**40, 0.5]),
        "iat_validity_period": lambda: rng.choice([1, 5, 525_600, 0, -3, 10**9, 2.5]),
    }
    s = policy_server(make_server)
    seen = {"refused at registration": 0, "exchanged": 0, "refused by policy": 0}
    for _ in range(300):
        policy = {k: f() for k, f in values.items() if rng.random() < 0.4}
        s.remove_issuer("partner")
        try:
            s.register_issuer({**issuer_json(), **policy})
        except jwtgrant.JWTGrantError as e:
            assert e.name == "JWTGRANT_EINVAL", (policy, e.message)
            # (an integer beyond 64 bits or a NUL is refused by the JSON reader itself)
            assert any(k in e.message for k in policy) or "issuer_json is not valid JSON" in e.message, \
                (policy, e.message)
            s.register_issuer(issuer_json())
            seen["refused at registration"] += 1
            continue
        (listed_entry,) = s.list_issuers()
        assert listed_entry["require_jti"] is bool(policy.get("require_jti", False))
        sub = rng.choice(subs[:1] + subs[2:])
        t = token(sub=sub, jti=rng.choice([None, "j-" + str(rng.random())]))
        rc, http, body = exchange(s, t, client=rng.choice(["app", "other"]),
                                  scope=rng.choice([None, "read", "read write"]))
        if rc == 0:
            c = s.verify_access_token(body["access_token"])
            assert c["idp"] == ISS and sub in c["sub"]
            seen["exchanged"] += 1
        else:
            seen["refused by policy"] += 1
            assert jwtgrant.status_name(rc) in POLICY_STATUSES, (policy, body)
            assert http == 400 and "access_token" not in body
            if len(sub) > 3:
                assert sub not in body["error_description"]
    assert all(n >= 20 for n in seen.values()), seen
