#!/usr/bin/env bash
# Checks the container image that `./mvnw -Pimage -DskipTests package` built, without a container runtime:
# unpacks target/jib-image.tar's layers into a folder and runs the image's own entrypoint and environment
# there as its own user, in a private mount namespace (`unshare -m`) with /proc and /dev mounted, chrooted
# (what a container runtime does, less the isolation). Needs root. Not part of the test suite (it takes a
# minute); exits non-zero on the first failure.
#
#   k8s/image-check.sh [--build] [TAR]      --build: run the Maven command first (and time it)
#
# Checks: the image config runs as 10001:10001 with no shell or JRE from a base image; Pulse starts
# (PULSE_STORAGE=false PULSE_DEMO=false) and answers 200 on /health/live, /health/ready and /metrics; the
# process runs as uid 10001; SIGTERM stops it (graceful stop) within 30 s. Prints the tar size, the build
# time (with --build), the start time and the stop time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=0
if [ "${1:-}" = "--build" ]; then build=1; shift; fi
tar_file=${1:-target/jib-image.tar}
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

[ "$(id -u)" = 0 ] || fail "needs root (unshare -m, mount, chroot)"
if [ $build = 1 ]; then
  t0=$(now_ms)
  ./mvnw -q -Pimage -DskipTests package >/tmp/pulse-image-build.$$.log 2>&1 \
    || { tail -30 /tmp/pulse-image-build.$$.log; fail "the image build failed"; }
  echo "build: $(( ($(now_ms) - t0) / 1000 )) s (./mvnw -Pimage -DskipTests package)"
fi
[ -s "$tar_file" ] || fail "no $tar_file: build it with ./mvnw -Pimage -DskipTests package"
echo "tar: $tar_file, $(( $(stat -c %s "$tar_file") / 1024 / 1024 )) MiB"

work=$(mktemp -d /tmp/pulse-image-check.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/tar" "$work/root"
tar -xf "$tar_file" -C "$work/tar"

# the image's config: layers in order, user, environment, entrypoint
python3 - "$work/tar" >"$work/config.sh" <<'PY'
import json, shlex, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))[0]
c = json.load(open(d + "/" + m["Config"]))["config"]
print("layers=(%s)" % " ".join(shlex.quote(l) for l in m["Layers"]))
print("user=%s" % shlex.quote(c.get("User", "")))
print("envs=(%s)" % " ".join(shlex.quote(e) for e in c.get("Env", [])))
print("cmd=(%s)" % " ".join(shlex.quote(a) for a in (c.get("Entrypoint") or []) + (c.get("Cmd") or [])))
print("workdir=%s" % shlex.quote(c.get("WorkingDir") or "/"))
PY
# shellcheck disable=SC1091
source "$work/config.sh"
echo "image: ${#layers[@]} layers, user $user, entrypoint ${cmd[*]}"
[ "$user" = "10001:10001" ] || fail "the image runs as '$user', not 10001:10001"
for l in "${layers[@]}"; do tar --warning=no-unknown-keyword -xzf "$work/tar/$l" -C "$work/root"; done
[ -x "$work/root/opt/java/bin/java" ] || fail "/opt/java/bin/java is missing or not executable"
mkdir -p "$work/root/proc" "$work/root/dev"

run_once() {
  local storage=$1 label=$2 code c t0 t1 uid gid exe rc port deadline
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # the image's environment, then what this check sets (as `docker run -e` would)
  run_env=("${envs[@]}" PULSE_STORAGE="$storage" PULSE_DEMO=false PULSE_AUTH=false PULSE_HTTP_PORT="$port")
  t0=$(now_ms)
  # unshare (no fork) execs bash, which execs env, chroot and the entrypoint in turn: $! is Pulse's pid.
  # The mounts live in the private namespace and go with it.
  unshare -m -- bash -c '
    set -e; root=$1; user=$2; shift 2
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
    exec /usr/bin/env -i "$@"' _ "$work/root" "$user" \
    "${run_env[@]}" /usr/sbin/chroot --userspec="$user" "$work/root" "${cmd[@]}" >"$work/pulse.log" 2>&1 &
  pid=$!

  code=""
  deadline=$(( $(now_ms) + 180000 ))
  while [ "$(now_ms)" -lt $deadline ]; do
    kill -0 "$pid" 2>/dev/null || {
      grep -v '^\s*at ' "$work/pulse.log" >&2
      [ ! -f "$work/root/var/lib/pulse/postgres.log" ] || tail -20 "$work/root/var/lib/pulse/postgres.log" >&2
      fail "Pulse exited during start"
    }
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/live" || true)
    [ "$code" = 200 ] && break
    sleep 0.2
  done
  [ "$code" = 200 ] || { tail -30 "$work/pulse.log" >&2; fail "/health/live answered '$code' after 180 s"; }
  echo "[$label] start: $(( $(now_ms) - t0 )) ms to /health/live 200"

  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  gid=$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")
  exe=$(readlink "/proc/$pid/exe" || true)
  [ "$uid:$gid" = "10001:10001" ] || fail "Pulse runs as $uid:$gid, not 10001:10001"
  case "$exe" in "$work/root/opt/java/bin/java") ;; *) fail "pid $pid is '$exe', not the image's java" ;; esac
  echo "[$label] process: uid $uid gid $gid, $exe"

  # ready: with storage on, once the embedded PostgreSQL is up and migrated
  for _ in $(seq 1 600); do
    c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" || true)
    [ "$c" = 200 ] && break
    sleep 0.2
  done
  for path in /health/ready /metrics; do
    c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path" || true)
    [ "$c" = 200 ] || fail "$path answered '$c'"
  done
  # an event accepted: the ingest path works on this runtime (its modules, its libraries)
  c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"stream":"image_check","values":{"ms":1}}' "http://127.0.0.1:$port/api/v1/events" || true)
  case "$c" in 2??) ;; *) fail "POST /api/v1/events answered '$c'" ;; esac
  echo "[$label] http: /health/live /health/ready /metrics 200, an event accepted ($c)"
  grep -E "WARN|ERROR|Exception" "$work/pulse.log" | head -5 || true

  t1=$(now_ms)
  kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then fail "Pulse did not stop within 30 s of SIGTERM"; fi
  set +e; wait "$pid"; rc=$?; set -e
  echo "[$label] stop: $(( $(now_ms) - t1 )) ms after SIGTERM, exit $rc"
  pid=""
  # nothing of the image may outlive Pulse (the embedded PostgreSQL stops with it)
  left=""
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null || true)" in "$work/root/"*) left="$left ${p#/proc/}" ;; esac
  done
  if [ -n "$left" ]; then kill -KILL $left 2>/dev/null || true; fail "processes left after Pulse stopped:$left"; fi
}

# 1. as in the cluster shape (history in an external PostgreSQL; here none): storage off
run_once false "no storage"
# 2. as k8s/pulse.yaml runs it: the embedded PostgreSQL under PULSE_DATA_DIR (/bin/sh, pg's libraries, /etc/passwd)
run_once true "embedded PostgreSQL"
echo "image check: OK"
