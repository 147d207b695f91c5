"""Hostile input at scale, through the C ABI, with fixed seeds (repeatable).

- Mutated assertions: every change to a valid token's bytes (a character
  replaced, deleted, inserted or duplicated, segments swapped or repeated,
  truncation, trailing bytes, non-ASCII) is rejected with a status code and
  never accepted, since strict base64url leaves no two spellings of the
  same signed bytes. Messages never echo the token.
- Random documents: config, issuer, client and JWKS documents built from
  random and mutated JSON are refused with a status (or accepted when they
  happen to be valid), never a crash.
"""

import json
import random
import string

import pytest

import jwtgrant
from helpers import assert_no_token_text, claims, exchange_refused, issuer_json, key_for_alg, mint

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

B64URL = string.ascii_letters + string.digits + "-_"
ALPHABET = B64URL + ".=+/ \t\r\n\"{}[]:,\\%&?#~\x7f" + "é€\U0001F600"


def mutate(rng: random.Random, token: str) -> str:
    kind = rng.randrange(9)
    i = rng.randrange(len(token))
    if kind == 0:   # replace a character by another base64url character
        return token[:i] + rng.choice(B64URL.replace(token[i], "")) + token[i + 1:]
    if kind == 1:   # delete
        return token[:i] + token[i + 1:]
    if kind == 2:   # insert
        return token[:i] + rng.choice(ALPHABET) + token[i:]
    if kind == 3:   # duplicate a run
        j = min(len(token), i + rng.randrange(1, 12))
        return token[:j] + token[i:j] + token[j:]
    if kind == 4:   # truncate
        return token[:i]
    if kind == 5:   # trailing garbage
        return token + "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 6)))
    if token.count(".") != 2:
        return token + "."
    h, p, s = token.split(".")
    if kind == 6:   # swap or repeat segments
        return rng.choice([f"{p}.{h}.{s}", f"{h}.{h}.{s}", f"{h}.{p}.{p}", f"{h}.{p}.{s}.{s}", f"{h}.{p}"])
    if kind == 7:   # flip the case of one letter
        c = token[i]
        return token[:i] + (c.swapcase() if c.isalpha() and c.swapcase() != c else "A") + token[i + 1:]
    # two mutations at once
    return mutate(rng, mutate(rng, token))


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_every_mutation_of_a_valid_assertion_is_rejected(make_server, alg):
    kind = {"RS256": "rsa2048", "PS256": "rsa2048", "ES256": "p256", "EdDSA": "ed25519"}[alg]
    s = make_server()
    s.register_issuer(issuer_json(fmt="jwks", kind=kind, kid="k1"))
    token = mint("pyjwt", alg, key_for_alg(alg), claims(), headers={"kid": "k1"})
    assert s.verify_assertion(token)["_issuer_name"] == "partner"
    rng = random.Random(f"libjwtgrant-fuzz-{alg}")
    seen = set()
    for _ in range(1500):
        bad = mutate(rng, token)
        if bad == token or bad in seen:
            continue
        seen.add(bad)
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            s.verify_assertion(bad)
        e = ei.value
        assert e.status < 0 and e.name.startswith("JWTGRANT_E"), e.name
        assert e.oauth_error in ("invalid_grant", "invalid_request"), (e.name, e.oauth_error)
        sig = token.split(".")[-1]
        assert sig[:24] not in (e.message or ""), "the message echoes the token"
        assert_no_token_text(e.message, bad)
        exchange_refused(s, bad, None)
    assert len(seen) > 1000
    assert s.verify_assertion(token)["_issuer_name"] == "partner", "the good token still verifies"


def random_json(rng: random.Random, depth: int = 0):
    roll = rng.randrange(10 if depth < 4 else 6)
    if roll == 0:
        return None
    if roll == 1:
        return rng.choice([True, False])
    if roll == 2:
        return rng.choice([0, -1, 1, 2**31, -2**63, 2**64, 1.5, 1e308, -0.0])
    if roll in (3, 4, 5):
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 12)))
    if roll in (6, 7):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = ["name", "issuer", "alias", "certificate", "jwks", "jwks_uri", "keys", "kty", "n", "e",
            "client_id", "client_secret", "grant_types", "scopes", "clock_skew", "jwks_endpoint",
            "grant_type", "jwt", "access_token", "store", "x"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def test_random_documents_never_crash(make_server):
    rng = random.Random("libjwtgrant-fuzz-documents")
    s = make_server()
    for _ in range(600):
        doc = random_json(rng)
        text = json.dumps(doc)
        if rng.random() < 0.3:   # broken JSON
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(ALPHABET) + text[i + 1:]
        for call in (lambda: s.register_issuer(text), lambda: s.register_client(text),
                     lambda: s.issuer_set_jwks("partner", text)):
            try:
                call()
            except jwtgrant.JWTGrantError as e:
                assert e.status < 0 and e.name.startswith("JWTGRANT_E")
        try:
            jwtgrant.Server(text).close()
        except jwtgrant.JWTGrantError as e:
            assert e.name in ("JWTGRANT_EINVAL", "JWTGRANT_EKEY"), e.name
    # the server is still sane afterwards
    assert isinstance(s.list_issuers(), list)
