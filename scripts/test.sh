#!/usr/bin/env bash
# imgate's whole test suite — the one command the README gives and CI runs.
#
# It installs what the tests need when it can (as root on Debian: ImageMagick,
# the awscli/s3cmd/rclone clients, tmux, exiftool, PostgreSQL, Chromium, nodejs/npm; a real MinIO
# server and the mc client built with `go install` at pinned versions, cached
# in $IMGATE_CACHE), starts a private PostgreSQL on loopback, runs gofmt,
# go vet, staticcheck, every Go test (unit, conformance, end-to-end against the
# real binaries) and each fuzz target briefly, then cleans up.
#
# Environment:
#   CI=true            integration tests fail (instead of skipping) when a real server/client is missing
#   IMGATE_CACHE       cache of built tools (default ~/.cache/imgate-ci)
#   IMGATE_FUZZTIME    time per fuzz target (default 20s; 0 skips fuzzing)
#   IMGATE_TEST_RUN    pass -run to go test (debugging a subset)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${IMGATE_CACHE:-$HOME/.cache/imgate-ci}
BIN=$CACHE/bin
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
STATICCHECK_VERSION=v0.8.2
FUZZTIME=${IMGATE_FUZZTIME:-20s}
mkdir -p "$BIN"
export PATH="$BIN:$PATH"

step() { printf '\n==> %s\n' "$*"; }
WORK=$(mktemp -d)
PGDIR=""
cleanup() {
  if [ -n "$PGDIR" ] && [ -f "$PGDIR/data/postmaster.pid" ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK" ${PGDIR:+"$PGDIR"}
}
trap cleanup EXIT

# --- system packages (root on Debian only; elsewhere tests that need them skip, or fail under CI) ---
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  want=(imagemagick awscli s3cmd rclone libimage-exiftool-perl tmux postgresql time jq
        libjpeg-turbo-progs libheif-examples libavif-bin webp icc-profiles-free colord-data chromium
        docker-compose iproute2 nodejs)
  command -v npm >/dev/null || want+=(npm) # Debian's npm; a nodejs that brings its own needs none
  missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- Go-built tools, cached by version ---
gobuild() { # name module@version
  local name=$1 mod=$2 stamp="$BIN/.$1.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$mod" ]; then return 0; fi
  step "building $mod (cached in $BIN)"
  (cd "$WORK" && GOFLAGS=-mod=mod GOBIN="$BIN" go install "$mod") && echo "$mod" > "$stamp"
}
gobuild minio "github.com/minio/minio@$MINIO_VERSION" || echo "warning: could not build MinIO; MinIO tests will skip (fail under CI)"
gobuild mc "github.com/minio/mc@$MC_VERSION" || echo "warning: could not build mc; its client test will skip (fail under CI)"
gobuild staticcheck "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" || echo "warning: staticcheck not available"

# --- npm packages of the browser and webhook tests (Uppy from npm, never copied into the repo) ---
NPM_BROWSER_PKGS="uppy@6 playwright-core@1 standardwebhooks@1"
if command -v npm >/dev/null; then
  if [ "$(cat "$CACHE/npm-browser/.version" 2>/dev/null)" != "$NPM_BROWSER_PKGS" ]; then
    step "npm install $NPM_BROWSER_PKGS (cached in $CACHE/npm-browser)"
    mkdir -p "$CACHE/npm-browser"
    (cd "$CACHE/npm-browser" && npm install --no-audit --no-fund --loglevel=error $NPM_BROWSER_PKGS >/dev/null) \
      && echo "$NPM_BROWSER_PKGS" > "$CACHE/npm-browser/.version" \
      || echo "warning: npm install failed; browser tests will skip (fail under CI)"
  fi
  export IMGATE_NPM_BROWSER="$CACHE/npm-browser"
fi

# --- PostgreSQL on loopback (the scale-out job store) ---
PGBIN=/usr/lib/postgresql/15/bin
if [ "$(id -u)" = 0 ] && [ -x "$PGBIN/initdb" ] && [ -z "${IMGATE_TEST_POSTGRES:-}" ]; then
  PGDIR=$(mktemp -d)
  chown postgres "$PGDIR"
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c max_connections=200 -c fsync=off" start >/dev/null
  export IMGATE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
  step "PostgreSQL on 127.0.0.1:$PGPORT"
fi

# Every module of go.mod into the module cache: the README test runs the
# newcomer's `go run ./cmd/imgate serve` offline and without build tags, which
# needs the modules only untagged builds use (purego, for the dynamic decoders).
step "go mod download"
go mod download

# The HEIF/AVIF/WebP decoders would dlopen system libraries through purego
# (which makes the binary dynamically linked); nodynamic keeps imgate static
# and always on their WebAssembly builds.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=nodynamic"
export CGO_ENABLED=0

# --- static checks ---
step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "not gofmt-formatted:"; echo "$bad"; exit 1; fi
step "go vet"
go vet ./...
if command -v staticcheck >/dev/null; then
  step "staticcheck"
  staticcheck ./...
fi

# --- tests ---
step "building imgate for the end-to-end tests"
go build -o "$WORK/imgate" ./cmd/imgate
export IMGATE_BIN="$WORK/imgate"
if [ -z "${IMGATE_CORPUS:-}" ] && [ -d "$ROOT/../shared/corpus" ]; then
  export IMGATE_CORPUS="$ROOT/../shared/corpus"
fi

step "go test (CI=${CI:-false})"
LOG=$WORK/test.log
set +e
go test -count=1 -v -timeout 30m ${IMGATE_TEST_RUN:+-run "$IMGATE_TEST_RUN"} ./... > "$LOG" 2>&1
status=$?
set -e
# A readable summary: package results, skips, failures, and the storage
# conformance suite per backend (it must have run against fs and MinIO).
grep -E '^(ok |FAIL|--- SKIP|panic:)|^ *--- FAIL|^    --- (PASS|SKIP): TestConformance/[a-z]+ ' "$LOG" || true
skips=$(grep -c -- '--- SKIP' "$LOG" || true)
if [ "$status" -ne 0 ]; then
  step "go test failed — failing tests' output:"
  # Parallel tests interleave their output under "=== NAME" headers: keep the
  # last 60 lines of each test's own output and print those of the failed ones.
  awk '
    /^=== (RUN|NAME|CONT|PAUSE) / { cur = $3; next }
    /^ *--- FAIL: / { failed[$3] = 1 }
    cur != "" { n[cur]++; line[cur, n[cur] % 60] = $0 }
    cur != "" && /^ +[A-Za-z0-9_]+_test\.go:[0-9]+: / && m[cur] < 20 { m[cur]++; msg[cur, m[cur]] = $0 }
    END {
      for (t in failed) {
        if (!(t in n)) continue
        # The test'"'"'s own messages first: a server log dumped at cleanup
        # can fill the last 60 lines and hide why the test failed.
        if (t in m) {
          print "\n--- messages of " t ":"
          for (i = 1; i <= m[t]; i++) print msg[t, i]
        }
        print "\n--- output of " t " (last 60 lines):"
        first = n[t] > 60 ? n[t] - 59 : 1
        for (i = first; i <= n[t]; i++) print line[t, i % 60]
      }
    }' "$LOG" | tail -n 600
  grep -nE '^(panic:|fatal error:)' -A 40 "$LOG" | head -n 120 || true
  exit "$status"
fi
if [ "${CI:-}" = true ] && [ "$skips" -gt 0 ]; then
  echo "CI=true but $skips tests skipped:"; grep -- '--- SKIP' -A 2 "$LOG"; exit 1
fi

# --- fuzzing: every target for $FUZZTIME, two at a time ---
if [ "$FUZZTIME" != 0 ]; then
  step "fuzz targets, $FUZZTIME each"
  mapfile -t targets < <(grep -rlE '^func Fuzz[A-Za-z0-9_]+\(' --include='*_test.go' . | while read -r f; do
    pkg=./$(dirname "${f#./}")
    grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | while read -r fn; do echo "$pkg $fn"; done
  done | sort -u)
  fuzzfail=0
  # run_fuzz PKG FN: fuzz one target. A failure counts only when Go reports a
  # failing input (it writes it under testdata/fuzz) or the seed corpus fails
  # on replay. Go 1.26's coordinator can end a healthy run with a bare
  # "context deadline exceeded" when a worker is slow to stop at -fuzztime
  # (golang/go#75804, fixed in 1.27): that run is replayed, not failed.
  run_fuzz() {
    local pkg=$1 fn=$2
    local out
    out="$WORK/fuzz-$(echo "$pkg-$fn" | tr '/.' '__').log"
    if go test -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -parallel 1 "$pkg" > "$out" 2>&1; then
      echo "fuzz ok   $pkg $fn"; return 0
    fi
    if ! grep -qE 'Failing input written|panic:|--- FAIL: '"$fn"'/' "$out" && grep -q 'context deadline exceeded' "$out" &&
      go test -count=1 -run "^$fn\$" "$pkg" >> "$out" 2>&1; then
      echo "fuzz ok   $pkg $fn (Go's stop-at-deadline race, golang/go#75804; corpus replayed clean)"; return 0
    fi
    echo "fuzz FAIL $pkg $fn"; grep -E -A 12 -- '--- FAIL|panic:|Failing input' "$out" | head -n 60; tail -n 15 "$out"; return 1
  }
  i=0; pids=()
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    run_fuzz $t & pids+=($!)
    i=$((i+1))
    if [ $((i % 2)) = 0 ]; then for p in "${pids[@]}"; do wait "$p" || fuzzfail=1; done; pids=(); fi
  done
  for p in "${pids[@]}"; do wait "$p" || fuzzfail=1; done
  [ "$fuzzfail" = 0 ] || { echo "a fuzz target failed"; exit 1; }
fi

pass=$(grep -cE '^\s*--- PASS' "$LOG" || true)
fail=$(grep -cE '^\s*--- FAIL' "$LOG" || true)
echo
echo "tests: $pass passed, $fail failed, $skips skipped"
