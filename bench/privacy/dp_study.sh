#!/usr/bin/env bash
# Accuracy against epsilon on a fleet-generator population (issue 14's study).
#
#   bench/privacy/dp_study.sh BUILD OUT [EPSILONS...]
#
# One tacit-sim run per target epsilon ("inf" = no noise, same clip and
# sampling): the noise multiplier for each target comes from
# `tacit-coordinator privacy --target-epsilon` with the run's rounds, q and
# delta, the accounting the coordinator and every laptop use (the discrete
# Gaussian, RDP, the general subsampling bound). Settings are environment
# variables (defaults: the figures in docs/dp_study.md):
#   PEOPLE=20000 P=0.025 ROUNDS=50 CLIP=1 COHORT=500 MIN_SURVIVORS=250
#   SEED=3 DELTA=1e-6 BITS=32 SECURE_AGG=false EVAL_EVERY=10
#   REUSE=1: keep runs already in OUT/eps-E (with their OUT/eps-E.log) and
#            only tabulate and plot them (same checks)
# Secure aggregation is off by default for time: the discrete Gaussian's sum
# is the same bit for bit with it on (tests/simulations/discrete_gaussian_test.cc).
# Prints a markdown table and writes OUT/accuracy_by_epsilon.svg. Exits 1
# when a run fails, a round does not commit, or a figure is missing.
set -euo pipefail

build="${1:?usage: dp_study.sh BUILD OUT [EPSILONS...]}"
out="${2:?usage: dp_study.sh BUILD OUT [EPSILONS...]}"
shift 2
epsilons=("$@")
[[ ${#epsilons[@]} -gt 0 ]] || epsilons=(inf 8 4 1 0.25)

PEOPLE="${PEOPLE:-20000}" P="${P:-0.025}" ROUNDS="${ROUNDS:-50}" CLIP="${CLIP:-1}"
COHORT="${COHORT:-500}" MIN_SURVIVORS="${MIN_SURVIVORS:-250}" SEED="${SEED:-3}"
DELTA="${DELTA:-1e-6}" BITS="${BITS:-32}" SECURE_AGG="${SECURE_AGG:-false}"
EVAL_EVERY="${EVAL_EVERY:-10}"

sim="$build/bin/tacit-sim" coordinator="$build/bin/tacit-coordinator"
for tool in "$sim" "$coordinator"; do
  [[ -x "$tool" ]] || { echo "dp_study: $tool is not built" >&2; exit 1; }
done
mkdir -p "$out"

fail() { echo "dp_study: $*" >&2; exit 1; }

write_config() {  # name noise_multiplier
  cat > "$out/$1.json" <<EOF
{
  "name": "dp-study",
  "seed": $SEED,
  "population": {"source": "generator", "people": $PEOPLE, "max_events_per_person": 400},
  "task": {
    "name": "dp-study",
    "model": {"name": "gru",
              "hyperparameters": {"embedding_dim": 16, "hidden_dim": 32, "layers": 1, "window": 16}},
    "vocab": {"size": 512, "salt": "dp-study"},
    "rounds": $ROUNDS,
    "cohort": {"size": $COHORT, "over_selection": 1.3, "min_survivors": $MIN_SURVIVORS},
    "secure_agg": {"bits": $BITS, "clip_range": 1.0},
    "dp": {"clip_norm": $CLIP, "noise_multiplier": $2, "sampling": "random_check_in",
           "check_in_probability": $P, "delta": $DELTA},
    "server_optimizer": {"type": "fedavg", "lr": 1.0},
    "training": {"epochs": 1, "batch_size": 16, "lr": 0.01, "optimizer": "adam"}
  },
  "simulation": {"secure_aggregation": $SECURE_AGG, "workers": 2, "eval_every": $EVAL_EVERY,
                 "behaviour": {"availability": 1.0}}
}
EOF
}

# "round top1" lines of the evaluated rounds of a run.
curve() {
  grep -o '"outcome":"[a-z]*\|"round":[0-9]*\|"top1_pooled":[0-9.e-]*' "$1/rounds.jsonl" |
    paste - - - | awk -F'[:\t]' '$4 > 0 { print $4, $6 }'
}

table="| target epsilon | noise multiplier z | epsilon spent (RDP) | top-1 | top-3 | rounds committed | wall time |"
table+=$'\n'"|---|---|---|---|---|---|---|"
series=()
for eps in "${epsilons[@]}"; do
  if [[ "$eps" == inf ]]; then
    z=0
  else
    line="$("$coordinator" privacy --rounds "$ROUNDS" --sampling-rate "$P" --delta "$DELTA" \
      --target-epsilon "$eps" | head -1)" || fail "no noise multiplier for epsilon $eps"
    z="$(sed -n 's/^noise multiplier \([0-9.]*\) .*/\1/p' <<< "$line")"
    [[ -n "$z" ]] || fail "could not read the noise multiplier from: $line"
  fi
  name="eps-$eps"
  if [[ "${REUSE:-0}" == 1 && -f "$out/$name/rounds.jsonl" && -f "$out/$name.log" ]]; then
    echo "dp_study: reusing $out/$name" >&2
  else
    write_config "$name" "$z"
    rm -rf "${out:?}/$name"  # this script owns OUT: a rerun replaces its runs
    "$sim" run --config "$out/$name.json" --out "$out/$name" > "$out/$name.log" 2>&1 ||
      fail "tacit-sim failed for epsilon $eps; see $out/$name.log"
  fi
  seconds="$(sed -n 's/.* rounds committed in \(.*\) ==$/\1/p' "$out/$name.log")"
  committed="$(grep -c '"outcome":"committed"' "$out/$name/rounds.jsonl" || true)"
  [[ "$committed" == "$ROUNDS" ]] ||
    fail "epsilon $eps: only $committed of $ROUNDS rounds committed (see $out/$name/rounds.jsonl)"
  final="$(grep 'next-event top-1' "$out/$name.log")" || fail "epsilon $eps: no final accuracy"
  top1="$(sed -n 's/.*top-1 \([0-9.]*\), top-3.*/\1/p' <<< "$final")"
  top3="$(sed -n 's/.*top-3 \([0-9.]*\) .*/\1/p' <<< "$final")"
  spent="$(tail -1 "$out/$name/rounds.jsonl" | grep -o '"epsilon":[0-9.e+-]*' | cut -d: -f2)"
  [[ -n "$top1" && -n "$top3" && -n "$spent" ]] || fail "epsilon $eps: missing figures in $final"
  [[ "$eps" == inf ]] && spent_text="none (no noise)" || spent_text="$spent"
  [[ "$eps" == inf ]] || spent_text="$(printf '%.3f' "$spent")"
  table+=$'\n'"| $eps | $z | $spent_text | $top1 | $top3 | $committed | $seconds |"
  series+=("$eps:$(curve "$out/$name" | tr '\n' ';')")
  echo "dp_study: epsilon $eps done (top-1 $top1, z $z, $seconds)" >&2
done

# One line chart: top-1 of the evaluated rounds, one series per epsilon.
{
  w=640 h=400 left=60 right=150 top=30 bottom=50
  echo "<svg xmlns='http://www.w3.org/2000/svg' width='$w' height='$h' font-family='sans-serif' font-size='12'>"
  echo "<rect width='$w' height='$h' fill='white'/>"
  echo "<text x='$left' y='18'>top-1 (pooled) by round, $PEOPLE people, q $P, clip $CLIP, seed $SEED</text>"
  colors=('#1f77b4' '#d62728' '#2ca02c' '#9467bd' '#ff7f0e' '#8c564b' '#17becf')
  i=0
  for s in "${series[@]}"; do
    label="${s%%:*}" points="${s#*:}"
    awk -v pts="$points" -v w="$w" -v h="$h" -v l="$left" -v r="$right" -v t="$top" -v b="$bottom" \
        -v rounds="$ROUNDS" -v color="${colors[$((i % 7))]}" -v label="epsilon $label" -v row="$i" '
      BEGIN {
        n = split(pts, p, ";"); path = "";
        for (k = 1; k <= n; k++) {
          if (p[k] == "") continue;
          split(p[k], xy, " ");
          x = l + (w - l - r) * xy[1] / rounds; y = h - b - (h - t - b) * xy[2] / 0.7;
          path = path (path == "" ? "M" : " L") sprintf("%.1f %.1f", x, y);
        }
        printf "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path, color;
        printf "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", w - r + 10, t + 20 + 18 * row, color, label;
      }'
    i=$((i + 1))
  done
  echo "<line x1='$left' y1='$((h - bottom))' x2='$((w - right))' y2='$((h - bottom))' stroke='black'/>"
  echo "<line x1='$left' y1='$top' x2='$left' y2='$((h - bottom))' stroke='black'/>"
  for v in 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7; do
    y=$(awk -v v="$v" -v h="$h" -v t="$top" -v b="$bottom" 'BEGIN { printf "%.1f", h - b - (h - t - b) * v / 0.7 }')
    echo "<text x='$((left - 30))' y='$y'>$v</text>"
  done
  echo "<text x='$(( (w - right) / 2 ))' y='$((h - 15))'>round (of $ROUNDS)</text>"
  echo "</svg>"
} > "$out/accuracy_by_epsilon.svg"

echo "$table"
echo
echo "settings: $PEOPLE people (fleet generator, seed $SEED), random check-ins p = $P (cohorts of about" \
  "$(awk -v n="$PEOPLE" -v p="$P" 'BEGIN { print n * p }')), $ROUNDS rounds, clip $CLIP," \
  "delta $DELTA, discrete Gaussian in a $BITS-bit ring, uniform weighting, secure aggregation $SECURE_AGG"
echo "$(grep -o 'BLAS .*' "$out/eps-${epsilons[0]}.log" | head -1)"
echo "curves: $out/accuracy_by_epsilon.svg"
