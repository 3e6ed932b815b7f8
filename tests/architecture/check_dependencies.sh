#!/usr/bin/env bash
# Fails (exit 1) listing every broken module boundary:
#   1. build/bin/tacit-client holds a tacit::coordinator symbol (nm -C);
#   2. a client target (tacit_client_*, tacit-client) depends, directly or not,
#      on a tacit_coordinator* target (cmake --graphviz of the build);
#   3. tacit-coordinator or a tacit_coordinator* library depends on LibTorch
#      (torch, c10 or tacit_models in the graph; ldd of the binary);
#   4. tacit_privacy (the DP math both sides link) depends on anything of tacit's
#      but tacit_common, or on LibTorch or gRPC.
# Usage: check_dependencies.sh <cmake> <build dir>
set -uo pipefail
cmake_bin="$1"
build="$2"
failures=0
fail() {
  echo "ARCHITECTURE VIOLATION: $*" >&2
  failures=$((failures + 1))
}

for tool in tacit-client tacit-coordinator; do
  if [[ ! -x "$build/bin/$tool" ]]; then
    echo "$build/bin/$tool is not built; build it first (scripts/build --target $tool)" >&2
    exit 1
  fi
done

# 1. No coordinator code in the laptop's program.
symbols="$(nm -C "$build/bin/tacit-client" | grep -F 'tacit::coordinator' | head -5)"
if [[ -n "$symbols" ]]; then
  fail "build/bin/tacit-client holds tacit::coordinator symbols, e.g.:"$'\n'"$symbols"$'\n'"  the client may use only task/, secure_agg/, models/, proto/, privacy/ and common/"
fi

# The target graph, per target (deps.dot.<target> lists everything it links,
# transitively). Re-running cmake on the configured tree only reads the cache.
graph="$(mktemp -d)"
trap 'rm -rf "$graph"' EXIT
if ! "$cmake_bin" "--graphviz=$graph/deps.dot" "$build" >"$graph/cmake.log" 2>&1; then
  cat "$graph/cmake.log" >&2
  echo "cmake --graphviz failed on $build" >&2
  exit 1
fi
labels() {  # every target in a per-target graph except the target itself
  grep -o 'label = "[^"]*"' "$1" | sed 's/^label = "//; s/"$//' | tail -n +2
}

checked_client=0
for file in "$graph"/deps.dot.tacit_client_* "$graph"/deps.dot.tacit-client; do
  [[ -e "$file" ]] || continue
  target="${file##*/deps.dot.}"
  checked_client=$((checked_client + 1))
  bad="$(labels "$file" | grep -E '^tacit_coordinator.*$' | sort -u | tr '\n' ' ')"
  if [[ -n "$bad" ]]; then
    fail "client target $target depends on coordinator targets: $bad(move what both sides need to task/)"
  fi
done
if [[ "$checked_client" -lt 2 ]]; then
  fail "found no client targets in the graph of $build (is it configured?)"
fi

checked_coordinator=0
for file in "$graph"/deps.dot.tacit_coordinator_* "$graph"/deps.dot.tacit-coordinator; do
  [[ -e "$file" ]] || continue
  target="${file##*/deps.dot.}"
  checked_coordinator=$((checked_coordinator + 1))
  bad="$(labels "$file" | grep -E '(^|/)(lib)?(torch|c10)([_.:-]|$)|^tacit_models$' | sort -u | tr '\n' ' ')"
  if [[ -n "$bad" ]]; then
    fail "coordinator target $target links LibTorch: $bad(the coordinator may link tacit_model_format only)"
  fi
done
if [[ "$checked_coordinator" -lt 2 ]]; then
  fail "found no coordinator targets in the graph of $build (is it configured?)"
fi

# 4. The privacy math stays linkable by both sides.
privacy_graph="$graph/deps.dot.tacit_privacy"
if [[ ! -e "$privacy_graph" ]]; then
  fail "found no tacit_privacy target in the graph of $build (is it configured?)"
else
  bad="$(labels "$privacy_graph" | grep -E '^tacit_|(^|/)(lib)?(torch|c10|grpc)' | grep -v '^tacit_common$' | sort -u | tr '\n' ' ')"
  if [[ -n "$bad" ]]; then
    fail "tacit_privacy depends on $bad(privacy/ may link tacit_common, absl and OpenSSL only)"
  fi
fi

torch_libs="$(ldd "$build/bin/tacit-coordinator" | grep -E 'lib(torch|c10)' | tr -s ' \t' ' ')"
if [[ -n "$torch_libs" ]]; then
  fail "build/bin/tacit-coordinator loads LibTorch:$torch_libs"
fi

if [[ "$failures" -gt 0 ]]; then
  echo "$failures architecture violation(s); see docs/architecture.md" >&2
  exit 1
fi
echo "architecture ok: $checked_client client and $checked_coordinator coordinator targets checked"
