#!/usr/bin/env bash
# Wallboard soak (issue 14, "memory stays flat"; see loadtests/README.md): every panel kind in a real
# headless Chromium against Pulse at an accelerated pace; JS heap and DOM nodes sampled after a forced GC.
#   loadtests/wallboard-soak.sh               full run, 10 minutes plus start-up
#   loadtests/wallboard-soak.sh --minutes 30  longer
#   loadtests/wallboard-soak.sh --quick       smoke run, 2 minutes
# Needs /usr/bin/chromium (or PULSE_CHROMIUM). Builds first when needed (--build forces, --no-build skips).
# Exit code: 0 flat, 1 a growth trend, 2 the run went wrong, 64 bad options.
exec "$(dirname "$0")/bench.sh" WallboardSoak "$@"
