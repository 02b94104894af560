#!/usr/bin/env bash
# `npx projen test:python-app`: the library as a Python team uses it. In a virtual environment
# under .tmp/ it installs test/python/requirements.txt (the jsii runtime, aws-cdk-lib and
# constructs at the npm development pins) and the wheel in dist/python, synthesizes
# test/python/app/app.py with jsii's runtime type checks on, synthesizes its TypeScript twin
# app.ts with ts-node, and fails when the two templates differ (asset hashes and CDKMetadata
# masked). Needs `npx projen bundle && npx projen compile && npx projen package:python-local`
# first. Everything it writes (venv, pip cache, cloud assemblies) stays in .tmp/python-app.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=.tmp/python-app
VENV=$WORK/venv
REQUIREMENTS=test/python/requirements.txt
APP_DIR=test/python/app
STACK=DurableAgentsPlatform

fail() {
  echo "test:python-app: $*" >&2
  exit 1
}

shopt -s nullglob
wheels=(dist/python/*.whl)
shopt -u nullglob
[ ${#wheels[@]} -eq 1 ] || fail "expected one wheel in dist/python, found ${#wheels[@]}: run npx projen bundle && npx projen compile && npx projen package:python-local first"
wheel=${wheels[0]}
command -v python3 >/dev/null || fail "python3 is not on PATH"

# pip writes its cache here, not in the home directory; it says nothing unless something fails.
export PIP_CACHE_DIR=$WORK/pip-cache PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
pip_quiet() {
  local log=$WORK/pip.log
  if ! "$VENV/bin/python" -m pip "$@" >"$log" 2>&1; then
    echo "test:python-app: pip $* failed:" >&2
    cat "$log" >&2
    exit 1
  fi
}

# The environment is kept between runs while the interpreter and the requirements are the same;
# the wheel is reinstalled every time.
mkdir -p "$WORK"
stamp="$(command -v python3) $(python3 -c 'import sys; print(sys.version.split()[0])') $(sha256sum "$REQUIREMENTS" | cut -c1-16)"
t0=$SECONDS
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$VENV"
  # Debian's python3 needs the python3-venv package for this (.ci/run installs it).
  python3 -m venv "$VENV" || fail "python3 -m venv failed: install python3-venv (apt) or use a python3 with venv and ensurepip"
  echo "installing $REQUIREMENTS into $VENV"
  pip_quiet install --quiet --only-binary=:all: -r "$REQUIREMENTS"
  echo "$stamp" >"$VENV/.stamp"
fi
# --no-deps: whatever the wheel needs must come from the pinned requirements, as `pip check` says.
pip_quiet install --quiet --no-deps --force-reinstall "$wheel"
pip_quiet check
echo "environment ready in $((SECONDS - t0))s: $("$VENV/bin/python" -m pip list --format=freeze 2>/dev/null | grep -Ei '^(jsii|aws-cdk-lib|constructs|typeguard|cdk-durable-agents)==' | tr '\n' ' ')"

# jsii's Node 20 notice (the project's machines run Node 20 on purpose) would fill the log.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

rm -rf "$WORK/py.out" "$WORK/ts.out"
t0=$SECONDS
# Type checks run only when __debug__ is true: no -O, no PYTHONOPTIMIZE (app.py also checks).
env -u PYTHONOPTIMIZE "$VENV/bin/python" -B "$APP_DIR/app.py" "$WORK/py.out" ||
  fail "the Python app failed to synthesize (above), with jsii's type checks on"
echo "Python app synthesized in $((SECONDS - t0))s (type checks on)"

t0=$SECONDS
TS_NODE_PROJECT=tsconfig.dev.json TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register "$APP_DIR/app.ts" "$WORK/ts.out" ||
  fail "the TypeScript twin failed to synthesize (above)"
echo "TypeScript twin synthesized in $((SECONDS - t0))s"

"$VENV/bin/python" -B test/python/compare_templates.py "$WORK/py.out/$STACK.template.json" "$WORK/ts.out/$STACK.template.json"
