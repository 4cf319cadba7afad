#!/usr/bin/env bash
# Screenshots of every ready dashboard (ids ready-*) in kiosk mode at 1920x1080, from a real run of
# the demo: docs/screenshots/<name>.png.
#   loadtests/screenshots.sh [--warm 40] [--out docs/screenshots]
# Needs /usr/bin/chromium (or PULSE_CHROMIUM). Builds first when needed (--build forces, --no-build skips).
# Exit code: 0 saved, 2 something went wrong (no ready dashboards, no data on a page), 64 bad options.
exec "$(dirname "$0")/bench.sh" WallboardSoak --screenshots "$@"
