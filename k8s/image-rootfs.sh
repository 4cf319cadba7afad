#!/usr/bin/env bash
# Makes the file system the Pulse image adds to `scratch` (run by `./mvnw -Pimage package`, README
# "Container image"): a jlink'ed Java runtime in /opt/java, the shared libraries it links against (found
# with ldd, copied from this machine), /bin/sh and three libraries for the embedded PostgreSQL, and the
# few files a process expects (/tmp, /etc/passwd, ...).
#
#   k8s/image-rootfs.sh OUT MODULES [JDK]     e.g. k8s/image-rootfs.sh target/rootfs java.base,java.sql /usr/lib/jvm/java-17
#
# Jib then lays OUT over `/` with the permissions named in pom.xml (it gives extra files mode 644).
set -euo pipefail
out=${1:?output folder}
modules=${2:?comma list of Java modules}
jdk=${3:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v jlink)")")")}}

rm -rf "$out"
mkdir -p "$out/opt"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=2 \
  --output "$out/opt/java"

# A JDK packaged by a distribution may link files out of its tree (Debian: lib/security/cacerts ->
# /etc/ssl/certs/java/cacerts): a link that leaves the runtime is replaced by a copy of what it names.
find "$out/opt/java" -type l | while read -r link; do
  target=$(readlink -f "$link")
  case "$target" in
    "$(readlink -f "$out")"/*) ;;
    *) rm "$link"; cp "$target" "$link" ;;
  esac
done
test -s "$out/opt/java/lib/security/cacerts" || { echo "no CA certificates in the runtime" >&2; exit 1; }

# Shared libraries: everything ldd names for the launcher and the runtime's own libraries, outside the
# runtime itself (libjvm and friends are found there through LD_LIBRARY_PATH, as in the image).
rt=$(readlink -f "$out/opt/java")
libs=$(for f in "$rt/bin/java" $(find "$rt/lib" -name '*.so'); do
  LD_LIBRARY_PATH="$rt/lib:$rt/lib/server" ldd "$f"
done | awk '
  /not found/ { print "MISSING " $1; next }
  $2 == "=>" && $3 ~ /^\// { print $3; next }
  $1 ~ /^\// { print $1 }' | sort -u)
if grep -q '^MISSING' <<<"$libs"; then
  echo "ldd cannot find: $(grep '^MISSING' <<<"$libs" | tr '\n' ' ')" >&2
  exit 1
fi
for lib in $libs; do
  case "$lib" in "$rt"/*) continue ;; esac
  install -D -m 755 "$(readlink -f "$lib")" "$out$lib"
done

# The embedded PostgreSQL (zonky; the default when PULSE_PG_URL is unset, as in k8s/pulse.yaml) unpacks
# its own server binaries at run time: they need a few more of the system's libraries, and pg_ctl starts
# the server through /bin/sh. So the image has this machine's sh (dash) and nothing else of a shell's kit.
sh_bin=$(readlink -f /bin/sh)
install -D -m 755 "$sh_bin" "$out/bin/sh"
for f in /bin/sh; do ldd "$f"; done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' >"$out.pg-libs"
for name in libdl.so.2 libpthread.so.0 librt.so.1; do
  ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ { print $NF; exit }' >>"$out.pg-libs"
done
while read -r lib; do
  [ -n "$lib" ] || { echo "a library the embedded PostgreSQL needs is not on this machine" >&2; exit 1; }
  [ -e "$out$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$out$lib"
done <"$out.pg-libs"
rm -f "$out.pg-libs"

# What a process in the image expects: a writable /tmp (the JVM's and Netty's temporary files), the
# non-root user by name (initdb
# insists), host and DNS lookups through files then DNS (localhost for the embedded PostgreSQL), the data folder.
mkdir -p "$out/tmp" "$out/etc" "$out/var/lib/pulse"
printf 'root:x:0:0:root:/:/sbin/nologin\npulse:x:10001:10001:pulse:/var/lib/pulse:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\npulse:x:10001:\n' >"$out/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$out/etc/nsswitch.conf"
# a container runtime mounts its own /etc/hosts and /etc/resolv.conf over these
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$out/etc/hosts"
: >"$out/etc/resolv.conf"
echo "rootfs: $(du -sh "$out" | cut -f1) in $out (modules: $modules)"
