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
if [[ ! -x "$CHROME_PATH" ]]; then
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
LIGHTHOUSE="$BENCH/node_modules/.bin/lighthouse"
if [[ ! -x "$LIGHTHOUSE" ]] || [[ "$("$LIGHTHOUSE" --version 2>/dev/null)" != "$LIGHTHOUSE_VERSION" ]]; then
  echo "Installing lighthouse@$LIGHTHOUSE_VERSION into $BENCH/node_modules"
  npm install --prefix "$BENCH" --no-save --no-audit --no-fund --loglevel=error \
    "lighthouse@$LIGHTHOUSE_VERSION" >/dev/null
fi

# --- The demo server on a free loopback port, with a fresh instance folder ---
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hp-lighthouse-XXXXXX")"
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export HOMEPROGRAM_INSTANCE_PATH="$WORK/instance"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
homeprogram() {
  "$PYTHON" -c 'import sys; from homeprogram.cli import main; sys.argv[0] = "homeprogram"; main()' "$@"
}
homeprogram demo --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$BASE/healthz" >/dev/null

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
