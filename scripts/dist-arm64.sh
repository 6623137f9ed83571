#!/usr/bin/env bash
# Cross-compiles hearth for 64-bit Raspberry Pi OS (Debian 12 arm64) and packages it as
# dist/hearth_<version>_arm64.deb: /usr/bin/hearth, the systemd unit hearth.service, the example
# config /etc/hearth/hearth.toml (a conffile), the Pi and server docs, and maintainer scripts
# that create the `hearth` system user and enable the service (packaging/deb/).
# Depends is computed by dpkg-shlibdeps from the arm64 binary's NEEDED libraries, looked up in
# the host's arm64 multiarch packages (scripts/install-deps.sh installs them), then checked
# against `aarch64-linux-gnu-readelf -d` so no linked library goes without a package.
# Env: BUILD_DIR (default build-arm64; scripts/test.sh has built it already), DIST_DIR (dist),
#      SKIP_BUILD=1 packages what BUILD_DIR holds without invoking the build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD_DIR:-build-arm64}
dist=${DIST_DIR:-dist}

version=$(sed -n 's/^project(hearth VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
if [ -z "$version" ]; then version=$(git describe --tags --always 2>/dev/null | sed 's/^v//'); fi
[ -n "$version" ] || { echo "dist-arm64: no version in CMakeLists.txt nor from git describe" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64.cmake" -DHEARTH_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target hearth_cli
fi
bin="$build/hearth"
[ -x "$bin" ] || { echo "dist-arm64: $bin is missing (build $build first)" >&2; exit 1; }
aarch64-linux-gnu-readelf -h "$bin" | grep -q 'Machine:.*AArch64' ||
  { echo "dist-arm64: $bin is not an AArch64 binary" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/hearth"
install -D -m 0755 "$bin" "$pkg/usr/bin/hearth"
aarch64-linux-gnu-strip --strip-unneeded "$pkg/usr/bin/hearth"
install -D -m 0644 packaging/deb/hearth.service "$pkg/lib/systemd/system/hearth.service"
install -D -m 0644 packaging/deb/hearth.toml "$pkg/etc/hearth/hearth.toml"
for doc in README.md docs/raspberry-pi.md docs/server.md; do
  install -D -m 0644 "$doc" "$pkg/usr/share/doc/hearth/$(basename "$doc")"
done
install -d -m 0755 "$pkg/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "packaging/deb/$script" "$pkg/DEBIAN/$script"; done
echo /etc/hearth/hearth.toml > "$pkg/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control from its working directory; DEB_HOST_ARCH makes it look
# the libraries up among the arm64 packages.
mkdir -p "$stage/src/debian"
printf 'Source: hearth\n\nPackage: hearth\nArchitecture: arm64\n' > "$stage/src/debian/control"
shlibs=$(cd "$stage/src" && DEB_HOST_ARCH=arm64 dpkg-shlibdeps -O "$pkg/usr/bin/hearth" 2>/dev/null |
         sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "dist-arm64: dpkg-shlibdeps found no dependencies (are the arm64 libraries installed? scripts/install-deps.sh)" >&2; exit 1; }
# Every NEEDED library must belong to a package named in Depends.
for lib in $(aarch64-linux-gnu-readelf -d "$pkg/usr/bin/hearth" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  # dpkg -S fails for the one of the two paths that does not exist (usrmerge or not).
  owner=$({ dpkg -S "/usr/lib/aarch64-linux-gnu/$lib" "/lib/aarch64-linux-gnu/$lib" 2>/dev/null || true; } |
          head -1 | cut -d: -f1)
  [ -n "$owner" ] || { echo "dist-arm64: no arm64 package holds $lib" >&2; exit 1; }
  case ", $shlibs," in
    *", $owner "*|*", $owner,"*) ;;
    *) echo "dist-arm64: $lib ($owner) is linked but missing from Depends: $shlibs" >&2; exit 1 ;;
  esac
done
depends="$shlibs, adduser"
size_kib=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: hearth
Version: $version
Architecture: arm64
Maintainer: hearth developers <hearth@localhost>
Installed-Size: $size_kib
Depends: $depends
Section: utils
Priority: optional
Description: local LLM engine and OpenAI/Ollama-compatible server for small boards
 hearth runs GGUF language models on the CPU of a Raspberry Pi 4/5 class board
 (NEON, and the dot-product instructions of the Pi 5) and serves them over an
 OpenAI- and Ollama-compatible HTTP API. "hearth pull" downloads models from
 Hugging Face; "hearth plan" predicts whether a model fits and how fast it runs.
 The hearth.service unit serves every model in /var/lib/hearth/models.
CONTROL
mkdir -p "$dist"
out="$dist/hearth_${version}_arm64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
