#!/usr/bin/env bash
# The module as another program uses it: a consumer module outside this
# directory imports example.com/libjwtgrant/jwtgrant once through a replace
# directive and once through a go.work workspace, passes go vet, builds and
# runs (it creates a server and prints the library version). Needs
# PKG_CONFIG_PATH (jwtgrant.pc) and a library the binary can load (an rpath
# in CGO_LDFLAGS, or LD_LIBRARY_PATH). Nothing is downloaded (GOPROXY=off).
# Usage: examples/go/check_consumers.sh WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: check_consumers.sh WORKDIR}
export GOPROXY=off GOFLAGS=-mod=mod
want=$(sed -n 's/^#define JWTGRANT_VERSION_STRING "\(.*\)"/\1/p' "$here/../../include/jwtgrant.h")
pass=0

write_main() {
    cat > "$1/main.go" <<'GO'
package main

import (
	"fmt"
	"os"

	"example.com/libjwtgrant/jwtgrant"
)

func main() {
	srv, err := jwtgrant.New(`{"clock_skew": 5}`)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer srv.Close()
	if _, err := srv.JWKS(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(jwtgrant.Version())
}
GO
}

run_consumer() {
    local dir=$1 what=$2 got
    (cd "$dir" && go vet ./... && go build -o consumer . ) || { echo "go consumer ($what): build failed"; exit 1; }
    got=$("$dir/consumer")
    [ "$got" = "$want" ] || { echo "go consumer ($what): printed '$got', want '$want'"; exit 1; }
    pass=$((pass + 1))
}

# 1. A replace directive.
rm -rf "$work"
mkdir -p "$work/replace" "$work/workspace/app"
cat > "$work/replace/go.mod" <<MOD
module consumer.example/replace

go 1.19

require example.com/libjwtgrant v0.0.0

replace example.com/libjwtgrant => $here
MOD
write_main "$work/replace"
run_consumer "$work/replace" "replace directive"

# 2. A workspace (go.work) naming this directory; the app's go.mod has no
#    replace.
cat > "$work/workspace/app/go.mod" <<MOD
module consumer.example/app

go 1.19
MOD
write_main "$work/workspace/app"
(cd "$work/workspace" && GOFLAGS= go work init ./app "$here")
(cd "$work/workspace/app" && GOFLAGS= go vet ./... && GOFLAGS= go build -o consumer .) \
    || { echo "go consumer (workspace): build failed"; exit 1; }
got=$("$work/workspace/app/consumer")
[ "$got" = "$want" ] || { echo "go consumer (workspace): printed '$got', want '$want'"; exit 1; }
pass=$((pass + 1))
echo "go consumers: $pass passed, 0 failed"
