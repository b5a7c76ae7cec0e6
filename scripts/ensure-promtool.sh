#!/usr/bin/env bash
# Puts promtool, from Debian's prometheus package, at the path given (the alert rules' tests run it).
# Only the binary is taken out of the package: no Prometheus service is installed or started.
# Usage: ensure-promtool.sh <upstream version> <destination>
set -euo pipefail
version="$1"
dest="$2"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# apt downloads as its own user where it can.
chmod 777 "$tmp"
cd "$tmp"
if ! apt-get download -qq prometheus >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  apt-get download -qq prometheus >/dev/null 2>&1
fi
deb="$(ls prometheus_*.deb)"
got="$(dpkg-deb -f "$deb" Version)"
case "$got" in
  "$version"+*) ;;
  *) echo "Debian's prometheus is $got, not $version: test deploy/prometheus/rules.yml with it, then update PROMTOOL_VERSION in scripts/setup.mjs and the image in docker-compose.yml" >&2; exit 1 ;;
esac
dpkg-deb --fsys-tarfile "$deb" | tar -x ./usr/bin/promtool
mkdir -p "$(dirname "$dest")"
mv usr/bin/promtool "$dest"
"$dest" --version | head -1
