#!/usr/bin/env bash
# Builds the Python sdist and wheel of this jsii library without PyPI (see python-packaging.ts).
set -euo pipefail
# Debian's interpreter carries python3-build, setuptools, wheel and twine (apt), whichever
# python3 comes first on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
for mod in build twine setuptools wheel; do
  if ! "$PY" -c "import $mod" 2>/dev/null; then
    echo "package:python-local: '$PY' lacks the '$mod' module; install python3-build twine python3-packaging python3-setuptools python3-wheel with apt" >&2
    exit 1
  fi
done
rm -rf dist/python .tmp/python-src
npx jsii-pacmak --target python --code-only --outdir .tmp/python-src
src=$(dirname "$(find .tmp/python-src -name pyproject.toml -print -quit)")
"$PY" -m build --no-isolation --skip-dependency-check --sdist --wheel --outdir dist/python "$src"
"$PY" -m twine check --strict dist/python/*
# The wheel's "Development Status" classifier follows its version (projenrc/release-metadata.ts).
PYTHON="$PY" npx ts-node --project projenrc/tsconfig.json projenrc/release-metadata.ts check-wheels dist/python
