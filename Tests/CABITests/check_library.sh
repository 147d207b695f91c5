#!/usr/bin/env bash
# The built library as the contract says: only jwtgrant_* symbols exported
# (none of simdjson's or libstdc++'s), exactly the functions the header
# declares; SONAME libjwtgrant.so.1; no Swift runtime needed; only the
# expected libraries as direct dependencies; stripped size at most 6.5 MiB. Prints
# "N passed, N failed" and exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
lib=${1:-.build/release/libjwtgrant.so}
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
declared=$(grep -oE '\bjwtgrant_[a-z0-9_]+[[:space:]]*\(' include/jwtgrant.h | sed 's/[[:space:](]//g' | sort -u)
stray=$(echo "$exported" | grep -v '^jwtgrant_' || true)
[ -z "$stray" ] && ok || bad "symbols beyond jwtgrant_*: $(echo $stray | head -c 300)"
[ "$(echo "$exported")" = "$(echo "$declared")" ] && ok || bad "exported != declared:
$(diff <(echo "$exported") <(echo "$declared"))"
readelf -d "$lib" | grep -q 'SONAME.*\[libjwtgrant.so.1\]' && ok || bad "SONAME is not libjwtgrant.so.1"
if ldd "$lib" | grep -qi swift; then bad "links a Swift runtime: $(ldd "$lib" | grep -i swift)"; else ok; fi
if ldd "$lib" | grep -q 'not found'; then bad "unresolved dependency"; else ok; fi
# Direct dependencies: the C runtime, libstdc++ (the simdjson shim) and the
# Debian libraries the README names; anything else is a packaging change.
allowed='^(libc\.so\.6|libm\.so\.6|ld-linux-x86-64\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libcrypto\.so\.3|libjansson\.so\.4|libsodium\.so\.23|libcurl\.so\.4|libsimdjson\.so\.[0-9]+|libsqlite3\.so\.0|libhiredis\.so\.[0-9.]+)$'
unexpected=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vE "$allowed" || true)
[ -z "$unexpected" ] && ok || bad "unexpected dependencies: $(echo $unexpected)"
tmp=$(mktemp); strip --strip-unneeded -o "$tmp" "$lib"
size=$(stat -c %s "$tmp"); rm -f "$tmp"
# 6 MiB held until the shared stores (SQLite and Redis adapters, about 0.25 MB)
# and the audit trail came in; the Swift standard library linked statically is
# about 5.5 MB of the total (README, "Size").
[ "$size" -le $((13 * 512 * 1024)) ] && ok || bad "stripped size $size > 6.5 MiB"
echo "stripped size: $size bytes; exported functions: $(echo "$exported" | wc -l)"
echo "check_library: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
