#!/usr/bin/env bash
# Checks the Raspberry Pi package: builds dist/hearth_<version>_arm64.deb from an existing arm64
# build (no compiling: SKIP_BUILD=1) and inspects it with dpkg-deb -I / -c and by unpacking it:
# control fields and Depends, the conffile, the systemd unit, the config (parsed by the native
# `hearth serve --check`), and that /usr/bin/hearth is an AArch64 ELF executable.
# Env: BUILD_DIR (default build-arm64), NATIVE_HEARTH (default build/hearth; skipped if absent).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build-arm64}
native=${NATIVE_HEARTH:-build/hearth}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }

deb=$(SKIP_BUILD=1 BUILD_DIR="$build" DIST_DIR="$work/dist" scripts/dist-arm64.sh)
[ -f "$deb" ] || fail "dist-arm64.sh made no package"
version=$(sed -n 's/^project(hearth VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
[ "$(basename "$deb")" = "hearth_${version}_arm64.deb" ] || fail "package named $(basename "$deb")"

info=$(dpkg-deb -I "$deb")
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = hearth ] || fail "Package: $(field Package)"
[ "$(field Architecture)" = arm64 ] || fail "Architecture: $(field Architecture)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
depends=$(field Depends)
for dep in libc6 libstdc++6 libgcc-s1 libcurl4 libcpp-httplib0.11 adduser; do
  [[ ", $depends," == *", $dep "* || ", $depends," == *", $dep,"* ]] || fail "Depends lacks $dep: $depends"
done
grep -q ' postinst' <<<"$info" && grep -q ' prerm' <<<"$info" && grep -q ' conffiles' <<<"$info" ||
  fail "maintainer scripts or conffiles missing: $info"

contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/hearth ./lib/systemd/system/hearth.service ./etc/hearth/hearth.toml \
            ./usr/share/doc/hearth/raspberry-pi.md; do
  grep -q " $path\$" <<<"$contents" || fail "$path not in the package"
done
grep -q 'root/root.* ./usr/bin/hearth$' <<<"$contents" || fail "/usr/bin/hearth is not owned by root"

dpkg-deb -R "$deb" "$work/x"
[ "$(cat "$work/x/DEBIAN/conffiles")" = /etc/hearth/hearth.toml ] || fail "conffiles: $(cat "$work/x/DEBIAN/conffiles")"
elf=$(aarch64-linux-gnu-readelf -h "$work/x/usr/bin/hearth")
grep -q 'Class:.*ELF64' <<<"$elf" && grep -q 'Machine:.*AArch64' <<<"$elf" || fail "/usr/bin/hearth is not an AArch64 ELF64"
[ -x "$work/x/usr/bin/hearth" ] || fail "/usr/bin/hearth is not executable"
unit="$work/x/lib/systemd/system/hearth.service"
for line in 'Restart=on-failure' 'After=network-online.target' 'Wants=network-online.target' 'User=hearth' \
            'StateDirectory=hearth' 'ExecStart=/usr/bin/hearth serve --config /etc/hearth/hearth.toml' \
            'WantedBy=multi-user.target'; do
  grep -qx "$line" "$unit" || fail "hearth.service lacks '$line'"
done
grep -q 'adduser --system' "$work/x/DEBIAN/postinst" || fail "postinst does not create the hearth user"
grep -q 'systemctl enable hearth.service' "$work/x/DEBIAN/postinst" || fail "postinst does not enable the service"
grep -q 'systemctl stop hearth.service' "$work/x/DEBIAN/prerm" || fail "prerm does not stop the service"
config="$work/x/etc/hearth/hearth.toml"
grep -qx 'threads = 4 .*' "$config" || grep -qx 'threads = 4' "$config" || fail "the config does not set 4 threads"
if [ -x "$native" ]; then
  "$native" serve --config "$config" --check 2>/dev/null || fail "hearth serve --check refuses the packaged config"
else
  echo "deb_test: $native absent, the config is not parsed"
fi
echo "deb_test: ok ($(basename "$deb"), Depends: $depends)"
