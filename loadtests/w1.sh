#!/usr/bin/env bash
# W1 speed benchmark (see loadtests/README.md), with Pulse's storage off unless --storage on.
#   loadtests/w1.sh            full run, about 3 minutes
#   loadtests/w1.sh --quick    smoke run, under 40 s once built
# Builds first when target/pulse.jar or the benchmark classes are missing or older than the sources
# (--build forces it, --no-build skips it). Every other option goes to W1Benchmark (--help lists them).
# Exit code: 0 targets met, 1 a target missed, 2 the run went wrong, 64 bad options.
exec "$(dirname "$0")/bench.sh" W1Benchmark "$@"
