#!/usr/bin/env bash
# scripts/install as a packager sees it: the installed file is
# libjwtgrant.so.1.MINOR.PATCH with the SONAME libjwtgrant.so.1, the
# libjwtgrant.so.1 and libjwtgrant.so links point the right way, pkg-config
# reports the header's version, a program linked with an rpath runs without
# LD_LIBRARY_PATH, and ldconfig runs exactly when the prefix's lib directory
# is one the dynamic loader searches (a stand-in ldconfig lists the
# loader's directories and records calls). Prints "N passed, N failed".
# Usage: Tests/CABITests/check_install.sh   (after `swift build -c release`)
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
minor=$(sed -n 's/^#define JWTGRANT_VERSION_MINOR \([0-9]*\).*/\1/p' include/jwtgrant.h)
patch=$(sed -n 's/^#define JWTGRANT_VERSION_PATCH \([0-9]*\).*/\1/p' include/jwtgrant.h)
version=$(sed -n 's/^#define JWTGRANT_VERSION_STRING "\(.*\)"/\1/p' include/jwtgrant.h)
major=$(sed -n 's/^#define JWTGRANT_VERSION_MAJOR \([0-9]*\).*/\1/p' include/jwtgrant.h)
file=libjwtgrant.so.1.$minor.$patch
# The SONAME's number is the ABI version, which is the header's major version.
check "the header's major version ($major) is the SONAME's (1)" [ "$major" = 1 ]

# The stand-in: `-v -N` prints the loader's directories (FAKE_LD_DIR and
# /lib), any other call is recorded in FAKE_LD_LOG.
cat > "$tmp/ldconfig" <<'SH'
#!/bin/sh
if [ "$1" = "-v" ]; then
    printf '%s: (from test.conf:1)\n\tlibfoo.so.1 -> libfoo.so.1.0\n/lib: (from <builtin>:0)\n' "$FAKE_LD_DIR"
    exit 0
fi
echo "ldconfig $*" >> "$FAKE_LD_LOG"
SH
chmod +x "$tmp/ldconfig"
export LDCONFIG=$tmp/ldconfig FAKE_LD_LOG=$tmp/calls
calls() { [ -f "$FAKE_LD_LOG" ] && wc -l < "$FAKE_LD_LOG" || echo 0; }

# 1. A private prefix: files, links, SONAME, pkg-config; no ldconfig.
p=$tmp/private
FAKE_LD_DIR=/nonexistent scripts/install "$p" > "$tmp/out1" || bad "install into a private prefix failed"
check "installed file $file is a regular file" test -f "$p/lib/$file" -a ! -L "$p/lib/$file"
check "libjwtgrant.so.1 -> $file" test "$(readlink "$p/lib/libjwtgrant.so.1")" = "$file"
check "libjwtgrant.so -> libjwtgrant.so.1" test "$(readlink "$p/lib/libjwtgrant.so")" = "libjwtgrant.so.1"
soname=$(readelf -d "$p/lib/$file" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "SONAME of the installed file is libjwtgrant.so.1 (got '$soname')" test "$soname" = libjwtgrant.so.1
check "the file name starts with the SONAME" test "${file#"$soname".}" != "$file"
others=$(cd "$p/lib" && ls libjwtgrant.so* | grep -vxF -e "$file" -e libjwtgrant.so.1 -e libjwtgrant.so || true)
check "no other libjwtgrant files ($others)" test -z "$others"
check "header installed" cmp -s include/jwtgrant.h "$p/include/jwtgrant.h"
check "pkg-config version is the header's ($version)" \
    test "$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --modversion jwtgrant)" = "$version"
check "no ldconfig for a private prefix" test "$(calls)" -eq 0
check "the private prefix gets rpath / LD_LIBRARY_PATH advice" grep -q "rpath" "$tmp/out1"

# 2. A program linked with an rpath runs without LD_LIBRARY_PATH and loads
#    the installed file through the SONAME link.
printf '#include <jwtgrant.h>\n#include <stdio.h>\nint main(void) { puts(jwtgrant_version()); return 0; }\n' \
    > "$tmp/prog.c"
gcc -std=c99 -Wall -Werror -I"$p/include" "$tmp/prog.c" -L"$p/lib" -ljwtgrant \
    -Wl,-rpath,"$p/lib" -o "$tmp/prog" && ok || bad "link against the prefix"
check "a program with an rpath runs without LD_LIBRARY_PATH" \
    test "$(env -u LD_LIBRARY_PATH "$tmp/prog")" = "$version"
needed=$(readelf -d "$tmp/prog" | sed -n 's/.*(NEEDED).*\[\(libjwtgrant[^]]*\)\]/\1/p')
check "the program needs libjwtgrant.so.1 (got '$needed')" test "$needed" = libjwtgrant.so.1
resolved=$(env -u LD_LIBRARY_PATH ldd "$tmp/prog" | awk '/libjwtgrant/ {print $3}')
check "the loader resolves it in the prefix ($resolved)" test "$(readlink -f "$resolved")" = "$p/lib/$file"

# 3. Installing again over the same prefix keeps the links right.
FAKE_LD_DIR=/nonexistent scripts/install "$p" > /dev/null || bad "second install failed"
check "links still right after a reinstall" test "$(readlink "$p/lib/libjwtgrant.so.1")" = "$file" -a \
    "$(readlink "$p/lib/libjwtgrant.so")" = libjwtgrant.so.1 -a ! -e "$p/lib/$file/$file"

# 4. A prefix whose lib directory the loader searches: ldconfig runs once.
s=$tmp/system
mkdir -p "$s/lib"
FAKE_LD_DIR=$s/lib scripts/install "$s" > "$tmp/out2" || bad "install into a system prefix failed"
check "ldconfig ran for a system prefix" test "$(calls)" -eq 1
# ... found through a symbolic link too (/lib may be /usr/lib).
ln -s "$s" "$tmp/system-link"
FAKE_LD_DIR=$tmp/system-link/lib scripts/install "$s" > /dev/null || bad "install (symlinked dir) failed"
check "ldconfig ran when the loader names the directory through a link" test "$(calls)" -eq 2

# 5. The explicit switches.
FAKE_LD_DIR=$s/lib scripts/install --no-ldconfig "$s" > /dev/null || bad "install --no-ldconfig failed"
check "--no-ldconfig skips ldconfig" test "$(calls)" -eq 2
FAKE_LD_DIR=/nonexistent scripts/install --ldconfig "$p" > /dev/null || bad "install --ldconfig failed"
check "--ldconfig runs it for any prefix" test "$(calls)" -eq 3

echo "check_install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
