#!/usr/bin/env bash
# W1 with storage on vs off, and a 24 h history query (issue 3's speed targets; see loadtests/README.md).
#   loadtests/w1-storage.sh            full run, about 3 minutes
#   loadtests/w1-storage.sh --quick    smoke run, under a minute once built
# Builds first when target/pulse.jar or the benchmark classes are missing or older than the sources
# (--build forces it, --no-build skips it). Every other option goes to W1StorageBenchmark (--help lists them).
# Exit code: 0 targets met, 1 a target missed, 2 the run went wrong, 64 bad options.
exec "$(dirname "$0")/bench.sh" W1StorageBenchmark "$@"
