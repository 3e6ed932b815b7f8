#!/usr/bin/env bash
# The live collector's footprint: CPU and memory of `tacit-client collect`
# while an X session produces ~20 input events per second.
#
# Starts Xvfb (a free display, -displayfd) and openbox, runs the real
# collector against a scratch client folder, types into a window with
# xdotool at RATE key strokes per second (a stroke is a press and a release:
# 2 events) for SECONDS, then reads the collector's CPU time (utime+stime from
# /proc/PID/stat) and memory (VmRSS, VmHWM from /proc/PID/status). Prints a
# table; exits non-zero when nothing was stored or a target is missed
# (under 1% of one core, under 30 MiB RSS).
#
# With MOTION_HZ > 0, the pointer also moves by one pixel MOTION_HZ times a
# second through XTest (xdotool mousemove_relative: raw motion events, as a
# physical mouse sends; the collector keeps at most 10 moves a second).
#
# Usage: bench/client/collector_footprint.sh [build dir] [seconds] [strokes per second] [motion Hz]
# Needs: Xvfb, openbox, xdotool (scripts/setup installs them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
seconds="${2:-40}"
rate="${3:-10}"  # strokes/s; 10 strokes = 20 events/s
motion_hz="${4:-0}"
client="$build/bin/tacit-client"
for tool in Xvfb openbox xdotool; do
  command -v "$tool" >/dev/null || { echo "collector_footprint: $tool is not installed (scripts/setup)" >&2; exit 2; }
done
[[ -x "$client" && -x "$build/bin/tacit-collector" ]] || {
  echo "collector_footprint: build tacit-client and tacit-collector first" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

Xvfb -displayfd 4 -nolisten tcp -screen 0 1920x1080x24 4>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/display" ]] && break; sleep 0.05; done
export DISPLAY=":$(head -1 "$work/display")"
openbox --sm-disable >"$work/openbox.log" 2>&1 &
pids+=($!)
sleep 1
"$client" --dir "$work/client" collect >"$work/collector.log" 2>&1 &
collector=$!
pids+=($collector)
for _ in $(seq 100); do [[ -s "$work/client/collector.json" ]] && break; sleep 0.05; done
[[ -s "$work/client/collector.json" ]] || { cat "$work/collector.log" >&2; echo "collector did not start" >&2; exit 1; }

sleep 1  # let start-up settle before measuring

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=$(cpu_ticks "$collector")
start_ns=$(date +%s%N)
strokes=$((seconds * rate))
text="$(for _ in $(seq $((strokes / 10 + 1))); do printf 'qwertyuiop'; done | head -c "$strokes")"
mover=""
if [[ "$motion_hz" -gt 0 ]]; then
  step=$(awk -v hz="$motion_hz" 'BEGIN{printf "%.4f", 1/hz}')
  moves=()
  for i in $(seq $((seconds * motion_hz))); do
    if ((i % 2)); then moves+=(mousemove_relative 1 0 sleep "$step"); else moves+=(mousemove_relative -- -1 0 sleep "$step"); fi
  done
  xdotool "${moves[@]}" &
  mover=$!
  pids+=($mover)
fi
# xdotool waits half of --delay after the press and half after the release.
xdotool type --delay $((2000 / rate)) "$text"
[[ -n "$mover" ]] && { kill "$mover" 2>/dev/null || true; }
end_ns=$(date +%s%N)
after=$(cpu_ticks "$collector")
rss_kib=$(awk '/^VmRSS/{print $2}' "/proc/$collector/status")
hwm_kib=$(awk '/^VmHWM/{print $2}' "/proc/$collector/status")
kill -TERM "$collector"
wait "$collector" || true

stored=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events_stored"])' \
  "$work/client/collector.json")
wall=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN{printf "%.1f", (b-a)/1e9}')
cpu_s=$(awk -v t=$((after - before)) -v hz="$ticks" 'BEGIN{printf "%.2f", t/hz}')
cpu_pct=$(awk -v c="$cpu_s" -v w="$wall" 'BEGIN{printf "%.2f", 100*c/w}')
events_per_s=$(awk -v n="$stored" -v w="$wall" 'BEGIN{printf "%.1f", n/w}')
cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)

printf '%-34s %s\n' "cpu" "$cpu_model" \
  "window" "${wall} s (keys: $rate strokes/s, pointer motion: $motion_hz Hz)" \
  "events stored" "$stored (${events_per_s}/s)" \
  "collector CPU time" "${cpu_s} s" \
  "collector CPU, % of one core" "${cpu_pct} % (target < 1 %)" \
  "collector RSS at the end" "$((rss_kib / 1024)).$(((rss_kib % 1024) * 10 / 1024)) MiB" \
  "collector peak RSS (VmHWM)" "$((hwm_kib / 1024)).$(((hwm_kib % 1024) * 10 / 1024)) MiB (target < 30 MiB)"

status=0
if [[ "$stored" -eq 0 ]]; then
  echo "FAIL: the collector stored no events; see $work/collector.log" >&2
  cat "$work/collector.log" >&2
  status=1
fi
awk -v p="$cpu_pct" 'BEGIN{exit !(p >= 1.0)}' && { echo "FAIL: CPU ${cpu_pct}% >= 1%" >&2; status=1; }
[[ "$hwm_kib" -ge $((30 * 1024)) ]] && { echo "FAIL: peak RSS ${hwm_kib} KiB >= 30 MiB" >&2; status=1; }
exit "$status"
