#!/usr/bin/env bash
# Installs the Debian packages the integration tests and the demo use: a real container registry,
# real image builders, htpasswd and openssl (the token-auth registry's signing certificate).
# As root, or through sudo. Safe to re-run: installs only what is missing.
set -euo pipefail
packages=(git docker-registry buildah podman apache2-utils busybox-static openssl)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 "${missing[@]}"
fi
