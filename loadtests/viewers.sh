#!/usr/bin/env bash
# Many viewers on one node (see loadtests/README.md, "Many viewers"): 1 viewer, 1,000 and 10,000 live
# subscribers (WebSocket and SSE) of one Pulse under W1 load at a steady rate; latency, heap per viewer,
# server CPU with 1 vs 1,000 viewers.
#   loadtests/viewers.sh            full run, about 10 minutes (connecting 10,000 viewers takes 1-2 of them)
#   loadtests/viewers.sh --quick    smoke run (1,000 and 2,000 viewers, short phases), about 3 minutes once built
# Builds first when target/pulse.jar or the benchmark classes are missing or older than the sources
# (--build forces it, --no-build skips it). Every other option goes to ViewersBenchmark (--help lists them).
# Exit code: 0 targets met, 1 a target missed, 2 the run went wrong, 64 bad options.
set -euo pipefail
# 10,000 sockets in the server and 10,000 in the viewers' JVM (each inherits this limit): raise the soft limit
hard=$(ulimit -Hn)
if [[ $hard == unlimited || $hard -ge 25000 ]]; then
  ulimit -n 25000
else
  ulimit -n "$hard"
  if [[ $hard -lt 12000 ]]; then
    echo "[viewers] WARNING: ulimit -Hn is $hard: fewer file descriptors than 10,000 viewers need (pass --many N)" >&2
  fi
fi
exec "$(dirname "$0")/bench.sh" ViewersBenchmark "$@"
