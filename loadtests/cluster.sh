#!/usr/bin/env bash
# A local Pulse cluster without Docker, and its guarantees checked in one run (issue 15; see loadtests/README.md):
# a KRaft broker in its own JVM (Kafka's test kit from the test-scoped Maven artifacts), one PostgreSQL
# (zonky's embedded server) and three Pulse instances (java -jar target/pulse.jar) in one consumer group.
# W1 through HTTP on all three, closed loop (max) then at a steady rate; one instance is killed with
# SIGKILL in the middle and started again; then stored history must equal the events acknowledged (202),
# exactly, and a WebSocket subscriber on each instance must have seen every one of the 1,000 series.
# The same driver against a single non-cluster Pulse on the same PostgreSQL gives the direct path's
# throughput for the ratio.
#   loadtests/cluster.sh            full run, about 5 minutes once built
#   loadtests/cluster.sh --quick    under three minutes once built
# Builds first when target/pulse.jar or the test classes are missing or older than the sources
# (--build forces it, --no-build skips it). Every other option goes to ClusterBenchmark (--help lists them).
# The report goes to loadtests/reports/cluster-<timestamp>.txt; the processes' logs stay in
# target/cluster-run-<timestamp>/ (--keep keeps its data folders too).
# Every process the run starts is stopped on exit, by the pids it noted (never by name).
# Exit code: 0 counts exact, 1 a count (or a subscriber's series) is off, 2 the run itself failed, 64 bad options.
set -uo pipefail
cd "$(dirname "$0")/.."

build=auto
keep=no
args=()
for a in "$@"; do
  case "$a" in
    --build) build=yes ;;
    --no-build) build=no ;;
    --keep) keep=yes ;;
    --help|-h) args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

jar=target/pulse.jar
marker=target/test-classes/io/pulse/loadtests/ClusterBenchmark.class
cpfile=target/cluster-test-classpath.txt
if [[ $build == auto ]]; then
  if [[ ! -f $jar || ! -f $marker || ! -f $cpfile ]] \
     || [[ -n "$(find pom.xml src verticles conf webroot loadtests/src -newer "$jar" -type f -print -quit 2>/dev/null)" ]] \
     || [[ -n "$(find loadtests/src -newer "$marker" -type f -print -quit 2>/dev/null)" ]] \
     || [[ pom.xml -nt $cpfile ]]; then
    build=yes
  fi
fi
if [[ $build == yes ]]; then
  echo "[cluster] building: ./mvnw -q -DskipTests package test-compile"
  ./mvnw -q -DskipTests package test-compile || exit 2
  echo "[cluster] test classpath: ./mvnw -q dependency:build-classpath -Dmdep.includeScope=test"
  ./mvnw -q dependency:build-classpath -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test || exit 2
fi
[[ -f $jar && -f $marker && -f $cpfile ]] || { echo "[cluster] not built: run with --build" >&2; exit 2; }

java_bin=java
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java_bin="$JAVA_HOME/bin/java"
fi

run_dir="$PWD/target/cluster-run-$(date -u +%Y%m%d-%H%M%S)-$$"
mkdir -p "$run_dir"
main_pid=

# Stops whatever is still running of this run: the driver JVM first (its shutdown hooks stop the
# servers gracefully), then every pid noted in $run_dir/pids whose command line names this run
# (a pid reused by an unrelated process is left alone).
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [[ -n $main_pid ]]; then
    if kill -0 "$main_pid" 2>/dev/null; then
      kill -TERM "$main_pid" 2>/dev/null
      for _ in $(seq 1 100); do kill -0 "$main_pid" 2>/dev/null || break; sleep 0.3; done
      kill -0 "$main_pid" 2>/dev/null && kill -KILL "$main_pid" 2>/dev/null
    fi
    # the driver ran in a process group of its own (setsid): whatever it started that is still in the
    # group (a server it was starting while it was told to stop, say) goes too
    if kill -0 -- "-$main_pid" 2>/dev/null; then
      echo "[cluster] stopping what is left of process group $main_pid"
      kill -TERM -- "-$main_pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 -- "-$main_pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL -- "-$main_pid" 2>/dev/null
    fi
  fi
  local left=()
  if [[ -f $run_dir/pids ]]; then
    while read -r pid what; do
      if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$run_dir"; then
        echo "[cluster] stopping $what (pid $pid), still running"
        kill -TERM "$pid" 2>/dev/null && left+=("$pid")
      fi
    done < "$run_dir/pids"
  fi
  if (( ${#left[@]} )); then
    for _ in $(seq 1 50); do
      local any=no
      for pid in "${left[@]}"; do kill -0 "$pid" 2>/dev/null && any=yes; done
      [[ $any == no ]] && break
      sleep 0.2
    done
    for pid in "${left[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
  fi
  if [[ $keep == no ]]; then
    rm -rf "$run_dir"/data-* "$run_dir"/pg "$run_dir"/kafka-tmp
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# setsid: the driver and every process it starts get a process group of their own (its pid), which the
# trap can stop as a whole; Ctrl-C reaches this script, whose trap stops the driver gracefully first
setsid "$java_bin" -Xmx768m -Dclustersh.run="$run_dir" -cp "$jar:target/test-classes" \
  io.pulse.loadtests.ClusterBenchmark --run-dir "$run_dir" --test-classpath "$jar:target/test-classes:$(cat "$cpfile")" \
  ${args[@]+"${args[@]}"} &
main_pid=$!
wait "$main_pid"
code=$?
echo "[cluster] logs: $run_dir"
exit "$code"
