#!/usr/bin/env bash
# Adversarial tests of issue 5 (tests/stress) on every interpreter:
# the shim on each stock venv (build/venv/<version>, `make venvs`) and the
# native flags on build/cpython/patched and build/cpython/patched-ft.
#
#   tools/stress.sh          long run (`make stress`): hypothesis profile
#                            "stress", 60 s of thread stress per build
#   tools/stress.sh --ci     CI-sized run (`make test`): profile "ci"
#                            (~200 examples per locked type), 5 s of threads
#
# Overrides: HYPOTHESIS_PROFILE, BUFFERFLAGS_STRESS_SECONDS, PYTEST_ARGS.
# Every interpreter runs even if an earlier one fails; the exit status is
# non-zero if any failed.  Each run ends with a "bufferflags stress report"
# section: examples, operations and refusals per locked type.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
mode=long
[ "${1:-}" = "--ci" ] && mode=ci
if [ $mode = ci ]; then
  : "${HYPOTHESIS_PROFILE:=ci}" "${BUFFERFLAGS_STRESS_SECONDS:=5}"
else
  : "${HYPOTHESIS_PROFILE:=stress}" "${BUFFERFLAGS_STRESS_SECONDS:=60}"
fi
export HYPOTHESIS_PROFILE BUFFERFLAGS_STRESS_SECONDS
export BUFFERFLAGS_FUZZ_PROGRAMS=${BUFFERFLAGS_FUZZ_PROGRAMS:-$([ $mode = ci ] && echo 150 || echo 2000)} BUFFERFLAGS_FUZZ_SECONDS=${BUFFERFLAGS_FUZZ_SECONDS:-$([ $mode = ci ] && echo 7 || echo 120)}  # tests/stress/test_differential.py (issue 19)
ARGS=${PYTEST_ARGS:--q}

pythons=()
for v in $("$ROOT"/tools/stock-pythons.sh); do
  py=$BUILD/venv/$v/bin/python
  if [ -x "$py" ]; then pythons+=("shim:$py"); else echo "stress: no venv for $v (make venvs)" >&2; fi
done
for b in patched patched-ft; do
  py=$BUILD/cpython/$b/bin/python3
  if [ -x "$py" ]; then pythons+=("native:$py"); else echo "stress: $py missing (make native)" >&2; fi
done

failed=()
for entry in "${pythons[@]}"; do
  kind=${entry%%:*}; py=${entry#*:}
  echo "== stress ($mode, $HYPOTHESIS_PROFILE, ${BUFFERFLAGS_STRESS_SECONDS}s threads) on $kind $py"
  if [ $kind = native ]; then pp=$ROOT/shim${PYTHONPATH:+:$PYTHONPATH}; else pp=${PYTHONPATH:-}; fi
  # shellcheck disable=SC2086
  # natively also the state word's thread races (issue 20), sized by
  # BUFFERFLAGS_STRESS_SECONDS like the rest
  extra=()
  [ $kind = native ] && extra=("$ROOT/tests/native/test_state_word.py")
  # shellcheck disable=SC2086
  if ! (cd "$BUILD" && PYTHONPATH=$pp "$py" -m pytest $ARGS -p no:cacheprovider "$ROOT/tests/stress" "${extra[@]}"); then
    failed+=("$py")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "stress: FAILED on: ${failed[*]}" >&2
  exit 1
fi
echo "stress: passed on ${#pythons[@]} interpreters"
