#!/bin/sh
# Install the Debian packages that the build and the tests need, when missing.
# Used by `make check`, `make demo` and .ci/run; safe to run again.
set -eu

PKGS="build-essential pkg-config libconfig-dev libbsd-dev libcrypt-dev libssl-dev
libseccomp-dev libedit-dev check curl lftp vsftpd openssl procps
bsdextrautils util-linux shellcheck groff man-db gdb mandoc logrotate strace"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
# The vsftpd package starts a system daemon on port 21; tests start their own.
if command -v service >/dev/null 2>&1; then service vsftpd stop >/dev/null 2>&1 || true; fi
exit 0
