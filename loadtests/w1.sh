#!/usr/bin/env bash
# W1 speed benchmark (see loadtests/README.md).
#   loadtests/w1.sh            full run, about 2 minutes
#   loadtests/w1.sh --quick    smoke run, under 40 s once built
# Builds first when target/pulse.jar or the benchmark classes are missing or older than the sources
# (--build forces it, --no-build skips it). Every other option goes to W1Benchmark (--help lists them).
# Exit code: 0 targets met, 1 a target missed, 2 the run went wrong, 64 bad options.
set -euo pipefail
cd "$(dirname "$0")/.."

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
marker=target/test-classes/io/pulse/loadtests/W1Benchmark.class
if [[ $build == auto ]]; then
  if [[ ! -f $jar || ! -f $marker ]] \
     || [[ -n "$(find pom.xml src verticles conf webroot loadtests/src -newer "$jar" -type f -print -quit 2>/dev/null)" ]] \
     || [[ -n "$(find loadtests/src -newer "$marker" -type f -print -quit 2>/dev/null)" ]]; then
    build=yes
  fi
fi
if [[ $build == yes ]]; then
  echo "[w1] building: ./mvnw -q -DskipTests package test-compile"
  ./mvnw -q -DskipTests package test-compile
fi

java_bin=java
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java_bin="$JAVA_HOME/bin/java"
fi
exec "$java_bin" -Xmx1g -cp "$jar:target/test-classes" io.pulse.loadtests.W1Benchmark "${args[@]}"
