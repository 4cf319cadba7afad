#!/usr/bin/env bash
# Where a server's CPU went, from a JFR recording (JDK 17's `jfr` tool; no `jfr view` there).
#   loadtests/w1.sh --skip-baseline --server-jvm-arg -XX:StartFlightRecording=filename=/tmp/pulse.jfr,settings=profile
#   loadtests/jfr-hot.sh /tmp/pulse.jfr [N]
# Prints the N (default 25) hottest methods by own samples, and the first io.pulse frame of each sample
# (which part of Pulse the time was spent under).
set -euo pipefail
rec=${1:?usage: jfr-hot.sh RECORDING.jfr [N]}
n=${2:-25}
jfr print --events jdk.ExecutionSample --stack-depth 64 "$rec" | awk -v n="$n" '
  /stackTrace = \[/ { inst = 1; first = ""; pulse = ""; next }
  inst && /^[[:space:]]*\]/ {
    inst = 0; total++
    if (first != "") self[first]++
    if (pulse != "") under[pulse]++; else under["(no io.pulse frame)"]++
    next
  }
  inst {
    f = $0; sub(/^[[:space:]]+/, "", f); sub(/[[:space:]]+line:.*/, "", f)
    if (f == "...") next
    if (first == "") first = f
    if (pulse == "" && f ~ /^io\.pulse\./) pulse = f
  }
  END {
    printf "%d samples\n\n-- hottest methods (own samples)\n", total
    for (k in self) printf "%5.1f%%  %s\n", 100 * self[k] / total, k | "sort -rn | head -" n
    close("sort -rn | head -" n)
    printf "\n-- first io.pulse frame on the stack\n"
    for (k in under) printf "%5.1f%%  %s\n", 100 * under[k] / total, k | "sort -rn | head -" n
    close("sort -rn | head -" n)
  }'
