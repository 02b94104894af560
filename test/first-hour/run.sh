#!/usr/bin/env bash
# `npx projen test:first-hour`: a team's first hour, from the packed tarball, offline (the npm
# registry only, served from npm's cache where it can). In a fresh temporary folder:
#   npm init -y; npm install <dist/js/cdk-durable-agents@<version>.jsii.tgz>; npx cdk-durable-agents init;
#   npm install; npm test; npx cdk synth; npx cdk-durable-agents dev --app cdk.out (a free port);
#   npx cdk-durable-agents start --input '{...}' --wait --port N (to the approval);
#   npx cdk-durable-agents approve <id> --port N; wait for SUCCEEDED; npx cdk-durable-agents status <id>
#   --port N; check the published report. (The README's quick start, with the server's port.)
# Then the same for `init --python` when the virtual environment of test/python/run.sh
# (`npx projen test:python-app`) exists (required under CI=true): the app's unittest suite, its
# synth with the TypeScript app's aws-cdk CLI, and one workflow under `dev --app`.
# Needs `npx projen bundle && npx projen compile && npx projen package:js` first (and
# package:python-local for the Python part). Every command is printed; a failing step prints its
# output. Writes nothing in the repository: everything goes to a temporary folder, removed at
# the end (kept when FIRST_HOUR_KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

fail() {
  echo "test:first-hour: $*" >&2
  exit 1
}

shopt -s nullglob
tarballs=(dist/js/cdk-durable-agents*.tgz)
wheels=(dist/python/*.whl)
shopt -u nullglob
[ ${#tarballs[@]} -eq 1 ] || fail "expected one tarball dist/js/cdk-durable-agents*.tgz (npx projen package:js writes cdk-durable-agents@<version>.jsii.tgz), found ${#tarballs[@]}: run npx projen bundle && npx projen compile && npx projen package:js first"
TARBALL=$REPO/${tarballs[0]}
VENV=$REPO/.tmp/python-app/venv

# The npm registry only, from the cache first; no notices, telemetry or update checks.
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export CDK_DISABLE_CLI_TELEMETRY=true
# jsii's notice for Node 20 (this project's machines run Node 20 on purpose) would fill the logs.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export PYTHONDONTWRITEBYTECODE=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cdkda-first-hour.XXXXXX")
DEV_PID=
cleanup() {
  local rc=$?
  stop_dev
  if [ "${FIRST_HOUR_KEEP:-}" = 1 ] || [ $rc -ne 0 ]; then echo "test:first-hour: the apps are in $WORK"; else rm -rf "$WORK"; fi
  echo
  echo "---- test:first-hour phases ----"
  for t in "${TIMINGS[@]}"; do echo "  $t"; done
  echo "  $(printf '%-44s %5ss' total $((SECONDS - START)))  (exit $rc)"
}
TIMINGS=()
START=$SECONDS
trap cleanup EXIT

# step <name> <command...>: prints the command, runs it in the current folder with its output in
# a log, prints that log when it fails, records how long it took.
step() {
  local name=$1
  shift
  local log t0=$SECONDS
  log=$WORK/logs/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log
  mkdir -p "$WORK/logs"
  echo "==> [$name] (in ${PWD/#$WORK/\$WORK}) \$ $*"
  if ! "$@" >"$log" 2>&1; then
    echo "---- output of [$name] ----" >&2
    cat "$log" >&2
    fail "step [$name] failed: $*"
  fi
  TIMINGS+=("$(printf '%-44s %5ss' "$name" $((SECONDS - t0)))")
}

# GET/POST against the local server; prints the body, fails on a status other than the expected.
api() {
  local method=$1 url=$2 expect=$3 body=${4:-}
  local out status
  out=$(curl -s -w '\n%{http_code}' -X "$method" -H 'content-type: application/json' ${body:+-d "$body"} "$url") || return 1
  status=${out##*$'\n'}
  [ "$status" = "$expect" ] || { echo "$method $url: $status ${out%$'\n'*}" >&2; return 1; }
  printf '%s' "${out%$'\n'*}"
}
# json <expression of `o`>: reads JSON on stdin, prints the expression.
json() {
  node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const o=JSON.parse(s);const v=('"$1"');process.stdout.write(v==null?"":String(v))})'
}

# run_workflow <label> <npm|cli> <cli...>: the local server on a free port (`npm run dev`, the app's
# script for `cdk-durable-agents dev --app cdk.out`, or the CLI's `dev --app cdk.out`), one workflow
# started with the CLI's `start --wait`, approved with `approve`, to SUCCEEDED and its published report.
run_workflow() {
  local label=$1 mode=$2
  shift 2
  local cli=("$@") log=$WORK/logs/$label-dev.log t0=$SECONDS url=
  local dev=("${cli[@]}" dev --app cdk.out --port 0 --data-dir .local)
  [ "$mode" = npm ] && dev=(npm run dev -- --port 0 --data-dir .local)
  echo "==> [$label: dev] \$ ${dev[*]}"
  # A process group of its own: npm and npx start the server as a child, which must stop with them.
  setsid "${dev[@]}" >"$log" 2>&1 &
  DEV_PID=$!
  local deadline=$((SECONDS + 60))
  until url=$(sed -n 's/^  serving  \(http:\/\/127\.0\.0\.1:[0-9]*\) .*/\1/p' "$log" 2>/dev/null) && [ -n "$url" ]; do
    kill -0 "$DEV_PID" 2>/dev/null || { cat "$log" >&2; fail "[$label: dev] exited before serving"; }
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; fail "[$label: dev] not serving after 60s"; }
    sleep 0.2
  done
  local port=${url##*:}
  TIMINGS+=("$(printf '%-44s %5ss' "$label: dev serving ($url)" $((SECONDS - t0)))")

  t0=$SECONDS
  local input='{"topic":"durable execution for AI agents","parameters":{"depth":"brief"}}'
  echo "==> [$label: start] \$ ${cli[*]} start --input '$input' --wait --port $port"
  "${cli[@]}" start --input "$input" --wait --timeout 120 --port "$port" >"$WORK/logs/$label-start.log" 2>&1 \
    || { cat "$WORK/logs/$label-start.log" "$log" >&2; fail "[$label] start --wait failed"; }
  cat "$WORK/logs/$label-start.log"
  local id
  id=$(sed -n 's/^started \(wf-[0-9a-f]*\) .*/\1/p' "$WORK/logs/$label-start.log")
  [ -n "$id" ] || fail "[$label] start printed no 'started <workflow-id>' line"
  grep -q "awaiting approval" "$WORK/logs/$label-start.log" || { cat "$log" >&2; fail "[$label] start --wait did not end waiting for the approval"; }
  local wf status
  echo "==> [$label: approve] \$ ${cli[*]} approve $id --port $port"
  "${cli[@]}" approve "$id" --port "$port" >"$WORK/logs/$label-approve.log" 2>&1 \
    || { cat "$WORK/logs/$label-approve.log" "$log" >&2; fail "[$label] approve $id failed"; }
  cat "$WORK/logs/$label-approve.log"
  deadline=$((SECONDS + 120))
  while :; do
    wf=$(api GET "$url/workflows/$id" 200) || fail "[$label] GET /workflows/$id failed"
    status=$(printf '%s' "$wf" | json 'o.status')
    [ "$status" = SUCCEEDED ] && break
    case $status in FAILED | CANCELLED | REJECTED | TIMED_OUT) cat "$log" >&2; fail "[$label] $id ended $status: $wf" ;; esac
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; fail "[$label] $id not SUCCEEDED after 120s: $wf"; }
    sleep 0.25
  done
  echo "==> [$label: status] \$ ${cli[*]} status $id --port $port"
  "${cli[@]}" status "$id" --port "$port" >"$WORK/logs/$label-status.log" 2>&1 || { cat "$WORK/logs/$label-status.log" >&2; fail "[$label] status $id failed"; }
  cat "$WORK/logs/$label-status.log"
  grep -q "^$id  SUCCEEDED" "$WORK/logs/$label-status.log" || fail "[$label] status $id does not say SUCCEEDED"
  local report
  report=$(printf '%s' "$wf" | json 'o.result && o.result.location')
  [ -n "$report" ] && [ -f "$report" ] || fail "[$label] $id SUCCEEDED but its report '$report' is not a file: $wf"
  head -1 "$report" | grep -q '^# ' || fail "[$label] the report $report does not start with a Markdown title: $(head -3 "$report")"
  grep -qi 'durable execution for AI agents' "$report" || fail "[$label] the report $report does not mention the topic"
  echo "    SUCCEEDED; report $report ($(wc -c <"$report") bytes): $(head -1 "$report")"
  TIMINGS+=("$(printf '%-44s %5ss' "$label: workflow to SUCCEEDED" $((SECONDS - t0)))")
  stop_dev
}

# Stops the local server's whole process group (npm or npx, and the server they started), waits for it.
stop_dev() {
  [ -n "$DEV_PID" ] || return 0
  kill -TERM -- "-$DEV_PID" 2>/dev/null || kill -TERM "$DEV_PID" 2>/dev/null || true
  wait "$DEV_PID" 2>/dev/null || true
  DEV_PID=
}

# ---- TypeScript -----------------------------------------------------------------------------
APP=$WORK/app
mkdir -p "$APP"
cd "$APP"
echo "test:first-hour: $(node --version), npm $(npm --version), tarball ${TARBALL#"$REPO"/}, in $WORK"
step "npm init -y" npm init -y
# With aws-cdk-lib and constructs at the template's pins in the same install (the README's quick start):
# installed as cdk-durable-agents' peers instead, pinning them later needs a fresh install (init says so).
PINS=$(node -e 'const m=require(process.argv[1]);console.log(["aws-cdk-lib","constructs"].map((n)=>n+"@"+m.dependencies[n]).join(" "))' "$REPO/templates/typescript/package.json")
# shellcheck disable=SC2086
step "npm install --save-exact <tarball> $PINS" npm install --save-exact --prefer-offline --no-audit --no-fund "$TARBALL" $PINS
step "npx cdk-durable-agents init" npx cdk-durable-agents init
cat "$WORK/logs/npx-cdk-durable-agents-init.log"
step "npm install" npm install --prefer-offline --no-audit --no-fund
step "npm test" npm test
step "npx cdk synth" npx cdk synth --quiet
[ -f cdk.out/DurableAgents.template.json ] || fail "npx cdk synth wrote no cdk.out/DurableAgents.template.json"
run_workflow typescript npm npx cdk-durable-agents

# ---- Python ---------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ] || [ ${#wheels[@]} -ne 1 ]; then
  [ "${CI:-}" = true ] && fail "the Python part needs $VENV and one wheel in dist/python: run npx projen package:python-local && npx projen test:python-app first"
  echo "test:first-hour: skipping the Python app: no $VENV or no wheel in dist/python (npx projen package:python-local && npx projen test:python-app make them)"
  exit 0
fi
PY=$WORK/py
step "npx cdk-durable-agents init --python" npx cdk-durable-agents init --python "$PY"
cd "$PY"
# The app's pinned requirements, from the wheel and the packages the venv already holds (no index).
step "pip install -r requirements.txt (no index)" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --find-links "$REPO/dist/python" -r requirements.txt
step "python -m unittest (the app's tests)" "$VENV/bin/python" -B -m unittest discover -s tests -t .
# cdk.json's own app command (`python3 app.py`), with the virtual environment's python3 first on PATH.
step "cdk synth (cdk.json: python3 app.py)" env PATH="$VENV/bin:$PATH" "$APP/node_modules/.bin/cdk" synth --quiet
[ -f cdk.out/DurableAgents.template.json ] || fail "cdk synth of the Python app wrote no cdk.out/DurableAgents.template.json"
node -e '
  const [a, b] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
  const types = (t) => Object.values(t.Resources).map((r) => r.Type).sort().join(",");
  if (types(a) !== types(b)) { console.error("the Python and TypeScript apps differ in their resources"); process.exit(1); }
  console.log(`    the Python app has the TypeScript app\x27s ${Object.keys(a.Resources).length} resources (by type)`);
' cdk.out/DurableAgents.template.json "$APP/cdk.out/DurableAgents.template.json"
run_workflow python cli "$APP/node_modules/.bin/cdk-durable-agents"
