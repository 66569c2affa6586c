#!/usr/bin/env bash
# Lighthouse (pinned 12.2.3: Lighthouse 13 needs Node 22) with the system Chromium, mobile
# settings, against the demo server (programs and three weeks of practice): the caregiver's
# today page, the therapist's dashboard and the login page. Prints the performance,
# accessibility and best-practices scores.
#
#   bash bench/lighthouse.sh            # reports kept in artifacts/lighthouse/
#
# Environment: CHROME_PATH (default /usr/bin/chromium; installed with apt-get when missing
# and running as root), PYTHON (default: the active virtualenv, .venv, then python3),
# LIGHTHOUSE_OUT (report folder). Traffic stays on 127.0.0.1.
# For tests of the script itself: LIGHTHOUSE_SKIP=1 stops once the server answers and the
# logins work (no Chromium, no Lighthouse); LIGHTHOUSE_BIN runs another program in
# Lighthouse's place.
#
# The demo server is this script's own child, stopped (and waited for) on every way out:
# the end of the run, a failed step, Ctrl+C or a TERM.
set -euo pipefail

LIGHTHOUSE_VERSION=12.2.3
TARGET_PERFORMANCE=95
TARGET_ACCESSIBILITY=100
TARGET_BEST_PRACTICES=100

BENCH="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$BENCH")"
OUT="${LIGHTHOUSE_OUT:-$REPO/artifacts/lighthouse}"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
CHROME_FLAGS="--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -n "${VIRTUAL_ENV:-}" ]]; then PYTHON="$VIRTUAL_ENV/bin/python"
  elif [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON="$REPO/.venv/bin/python"
  else PYTHON=python3; fi
fi

# --- Chromium from the system package manager (another apt may hold the lock) ---
if [[ -z "${LIGHTHOUSE_SKIP:-}" ]] && [[ ! -x "$CHROME_PATH" ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "No Chromium at $CHROME_PATH: install it (apt-get install chromium) or set CHROME_PATH." >&2
    exit 1
  fi
  for attempt in $(seq 1 30); do
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; then
      break
    fi
    echo "apt busy (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  [[ -x "$CHROME_PATH" ]] || { echo "Chromium could not be installed" >&2; exit 1; }
fi

# --- Lighthouse, pinned, in bench/node_modules (git-ignored) ---
LIGHTHOUSE="${LIGHTHOUSE_BIN:-$BENCH/node_modules/.bin/lighthouse}"
if [[ -z "${LIGHTHOUSE_SKIP:-}${LIGHTHOUSE_BIN:-}" ]] && { [[ ! -x "$LIGHTHOUSE" ]] || [[ "$("$LIGHTHOUSE" --version 2>/dev/null)" != "$LIGHTHOUSE_VERSION" ]]; }; then
  echo "Installing lighthouse@$LIGHTHOUSE_VERSION into $BENCH/node_modules"
  npm install --prefix "$BENCH" --no-save --no-audit --no-fund --loglevel=error \
    "lighthouse@$LIGHTHOUSE_VERSION" >/dev/null
fi

# --- The demo server on a loopback port of its choosing, with a fresh instance folder ---
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hp-lighthouse-XXXXXX")"
SERVER_PID=""
running() {  # pid: alive, not merely a zombie waiting to be collected
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do running "$SERVER_PID" || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export HOMEPROGRAM_INSTANCE_PATH="$WORK/instance"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
# The log exists before the server starts: the loop below may read it before the
# background process has opened it.
: >"$WORK/server.log"
# Started directly (no function or subshell around it), so $! is the server's own id.
# Port 0: the server takes a free port and prints it; none is picked here and reused.
"$PYTHON" -c 'import sys; from homeprogram.cli import main; sys.argv[0] = "homeprogram"; main()' \
  demo --host 127.0.0.1 --port 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT="$(sed -n 's|^Serving on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$WORK/server.log" | head -1)"
  [[ -n "$PORT" ]] && break
  running "$SERVER_PID" || { echo "the demo server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done
[[ -n "$PORT" ]] || { echo "the demo server did not start in 60 s:" >&2; cat "$WORK/server.log" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"
curl -fsS "$BASE/healthz" >/dev/null
echo "Demo server at $BASE (pid $SERVER_PID)"

# Demo logins, printed by `homeprogram demo`.
CAREGIVER_EMAIL="parent.alvarez@demo.homeprogram.test"
CAREGIVER_PASSWORD="demo-caregiver-2026"
THERAPIST_EMAIL="therapist@demo.homeprogram.test"
THERAPIST_PASSWORD="demo-therapist-2026"

# Log in like the browser does and write the session cookie as Lighthouse extra headers.
login_headers() {  # email password file
  local jar="$WORK/jar-$RANDOM" token cookie
  token="$(curl -fsS -c "$jar" "$BASE/login" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' | head -1)"
  curl -fsS -b "$jar" -c "$jar" -o /dev/null \
    --data-urlencode "csrf_token=$token" --data-urlencode "email=$1" --data-urlencode "password=$2" \
    "$BASE/login"
  cookie="$(awk '$6 == "hp_session" { print $7 }' "$jar")"
  [[ -n "$cookie" ]] || { echo "login as $1 failed" >&2; exit 1; }
  printf '{"Cookie": "hp_session=%s"}\n' "$cookie" >"$3"
  printf '%s' "$cookie" >"$3.cookie"
}
login_headers "$CAREGIVER_EMAIL" "$CAREGIVER_PASSWORD" "$WORK/caregiver.json"
login_headers "$THERAPIST_EMAIL" "$THERAPIST_PASSWORD" "$WORK/therapist.json"
echo '{}' >"$WORK/anonymous.json"

# The therapist's landing page: the dashboard once it exists, the caseload before.
DASHBOARD=/dashboard
if [[ "$(curl -s -o /dev/null -w '%{http_code}' -b "hp_session=$(cat "$WORK/therapist.json.cookie")" "$BASE$DASHBOARD")" == 404 ]]; then
  DASHBOARD=/caseload
fi

if [[ -n "${LIGHTHOUSE_SKIP:-}" ]]; then
  echo "LIGHTHOUSE_SKIP is set: the server answers and the logins work; Lighthouse not run."
  exit 0
fi

mkdir -p "$OUT"
run() {  # name path headers-file
  "$LIGHTHOUSE" "$BASE$2" --quiet --form-factor=mobile --screenEmulation.mobile \
    --only-categories=performance,accessibility,best-practices \
    --chrome-flags="$CHROME_FLAGS" --extra-headers="$WORK/$3.json" \
    --output=json --output=html --output-path="$OUT/$1" >"$WORK/lighthouse-$1.log" 2>&1 \
    || { echo "lighthouse failed on $2:" >&2; tail -20 "$WORK/lighthouse-$1.log" >&2; exit 1; }
}
run today /today caregiver
run dashboard "$DASHBOARD" therapist
run login /login anonymous
stop_server

echo "Lighthouse $LIGHTHOUSE_VERSION, mobile, $("$CHROME_PATH" --version 2>/dev/null | head -1)"
"$PYTHON" - "$OUT" "$TARGET_PERFORMANCE" "$TARGET_ACCESSIBILITY" "$TARGET_BEST_PRACTICES" <<'PY'
import json
import sys
from pathlib import Path

out, targets = Path(sys.argv[1]), [int(t) for t in sys.argv[2:5]]
categories = ["performance", "accessibility", "best-practices"]
print(f"{'page':<11}{'url':<34}" + "".join(f"{c:>16}" for c in categories))
missed = []
for name in ["today", "dashboard", "login"]:
    report = json.loads((out / f"{name}.report.json").read_text())
    url = report["finalDisplayedUrl"].split("/", 3)[-1]
    scores = [round(report["categories"][c]["score"] * 100) for c in categories]
    print(f"{name:<11}{'/' + url:<34}" + "".join(f"{s:>16}" for s in scores))
    for category, score, target in zip(categories, scores, targets, strict=True):
        if score < target:
            failing = [
                audit["id"]
                for ref in report["categories"][category]["auditRefs"]
                if ref["weight"] > 0
                and (audit := report["audits"][ref["id"]])["score"] is not None
                and audit["score"] < 1
            ]
            missed.append(f"{name} {category} {score} < {target}: {', '.join(failing[:8])}")
print(f"targets: performance >= {targets[0]}, accessibility {targets[1]}, best practices {targets[2]}")
print("\n".join(f"MISSED {m}" for m in missed) if missed else "all targets met")
print(f"reports: {out}/<page>.report.html")
PY
