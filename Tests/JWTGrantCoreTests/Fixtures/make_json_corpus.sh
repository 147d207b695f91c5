#!/usr/bin/env bash
# Regenerates json_corpus.txt, the documents of the JSON differential test
# (Tests/JWTGrantCoreTests/JSON/JSONDifferentialTests.swift) that come from
# outside the Swift suite: the header and payload of every token the Python
# suite mints or crafts, and the JSON documents of the fuzz seeds
# (Tests/Fuzz/seeds.py). One document a line, base64url, unique, sorted.
# Needs the release library: swift build -c release.
set -euo pipefail
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
JWTGRANT_JSON_CORPUS=$tmp/tokens JWTGRANT_LIB=$PWD/.build/release/libjwtgrant.so \
    python3 -m pytest -q -p no:cacheprovider examples/python/tests > "$tmp/pytest.log" 2>&1 \
    || { tail -n 20 "$tmp/pytest.log"; exit 1; }
python3 Tests/Fuzz/seeds.py "$tmp/seeds"
python3 - "$tmp" > Tests/JWTGrantCoreTests/Fixtures/json_corpus.txt <<'PY'
import base64, os, sys
tmp = sys.argv[1]
docs = set()
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def unb64u(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except Exception:
        return None
for line in open(os.path.join(tmp, "tokens"), encoding="utf-8", errors="replace"):
    parts = line.strip().split(".")
    for p in parts[:2]:
        d = unb64u(p)
        if d is not None and len(d) < 16384:
            docs.add(d)
seeds = os.path.join(tmp, "seeds")
for name in os.listdir(seeds):
    data = open(os.path.join(seeds, name), "rb").read()
    target, body = data[0], data[1:]
    if target == 1:
        docs.update(body.split(b"\n", 1))
    elif target in (2, 4, 5):
        docs.add(body)
for d in sorted(docs):
    print(b64u(d))
PY
wc -l Tests/JWTGrantCoreTests/Fixtures/json_corpus.txt
