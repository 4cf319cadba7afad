#!/usr/bin/env bash
# Runs one benchmark of loadtests/src, building first if needed; w1.sh and w1-storage.sh call it.
#   loadtests/bench.sh W1Benchmark|W1StorageBenchmark [--build|--no-build] [options of the benchmark]
# Builds when target/pulse.jar or the benchmark classes are missing or older than the sources
# (--build forces it, --no-build skips it). Every other option goes to the benchmark (--help lists them).
# Exit code: the benchmark's (0 targets met, 1 a target missed, 2 the run went wrong, 64 bad options).
set -euo pipefail
cd "$(dirname "$0")/.."

main=${1:?usage: loadtests/bench.sh BenchmarkClass [options]}
shift
build=auto
args=()
for a in "$@"; do
  case "$a" in
    --build) build=yes ;;
    --no-build) build=no ;;
    *) args+=("$a") ;;
  esac
done

jar=target/pulse.jar
marker=target/test-classes/io/pulse/loadtests/$main.class
if [[ $build == auto ]]; then
  if [[ ! -f $jar || ! -f $marker ]] \
     || [[ -n "$(find pom.xml src verticles conf webroot loadtests/src -newer "$jar" -type f -print -quit 2>/dev/null)" ]] \
     || [[ -n "$(find loadtests/src -newer "$marker" -type f -print -quit 2>/dev/null)" ]]; then
    build=yes
  fi
fi
if [[ $build == yes ]]; then
  echo "[$main] building: ./mvnw -q -DskipTests package test-compile"
  ./mvnw -q -DskipTests package test-compile
fi

java_bin=java
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java_bin="$JAVA_HOME/bin/java"
fi
exec "$java_bin" -Xmx1g -cp "$jar:target/test-classes" "io.pulse.loadtests.$main" ${args[@]+"${args[@]}"}
