#!/bin/sh
# `make demo`: build moatftp and run a demo server on 127.0.0.1:2121 with
# TLS and one account, everything under ./run/.  Works as root (full
# privilege separation: chroot jails, per-account uids) and as an ordinary
# user (sessions confined with Landlock).  Running it again reuses the
# account, the password and the certificate.  Remove ./run/ to start afresh.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
run=$top/run
conf=$run/moatftpd.conf
port=2121

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
adm() { "$top/build/moatadm" -c "$conf" "$@"; }

# ---- packages and build --------------------------------------------------
sh regress/deps.sh || die "cannot install the packages the build needs"
make all || die "the build failed"
for p in moatftpd moatadm moatftp; do
	[ -x "build/$p" ] || die "build/$p was not built"
done

# ---- ./run -------------------------------------------------------------------
uid=$(id -u)
if [ -e "$run/users.db" ] && [ "$(stat -c %u "$run/users.db")" != "$uid" ]; then
	die "$run was made by another user (uid $(stat -c %u "$run/users.db")); run as that user or remove $run"
fi

umask 077
mkdir -p "$run" "$run/home" "$run/empty"
chmod 0755 "$run" "$run/empty"
chmod 0711 "$run/home"
if [ "$uid" -eq 0 ]; then
	# The pre-login jail's root: owned by root, writable by nobody else.
	chown root:root "$run/empty"
fi

# Written every time (same contents), so that it follows this script.
rm -f "$conf"
cat > "$conf" <<EOF
# moatftpd demo configuration, written by conf/demo.sh.
listen = ["127.0.0.1:$port"];
user_db = "$run/users.db";
home_root = "$run/home";
jail_dir = "$run/empty";
jail_user = "nobody";
pidfile = "$run/moatftpd.pid";
tls_cert = "$run/cert.pem";
tls_key = "$run/key.pem";
xferlog = "$run/xferlog";
pasv_min_port = 50000;
pasv_max_port = 50100;
EOF
chmod 0644 "$conf"

# ---- certificate -----------------------------------------------------------
if [ -s "$run/cert.pem" ] && [ -s "$run/key.pem" ]; then
	say "demo: reusing the certificate $run/cert.pem"
else
	rm -f "$run/cert.pem" "$run/key.pem"
	adm gencert --cn localhost || die "gencert failed"
fi

# ---- account ---------------------------------------------------------------
newpass() {
	if command -v openssl >/dev/null 2>&1; then
		openssl rand -hex 12
	else
		od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
	fi
}

pwfile=$run/demo-password
if adm show demo >/dev/null 2>&1; then
	if [ -s "$pwfile" ]; then
		say "demo: reusing the account demo"
		pass=$(cat "$pwfile")
	else
		# The account is there but its password was lost: set a new one.
		pass=$(newpass)
		printf '%s\n' "$pass" | adm passwd demo --password-stdin ||
			die "cannot set the password of demo"
		printf '%s\n' "$pass" > "$pwfile"
	fi
else
	pass=$(newpass)
	printf '%s\n' "$pass" | adm useradd demo --password-stdin ||
		die "cannot create the account demo"
	printf '%s\n' "$pass" > "$pwfile"
fi
chmod 0600 "$pwfile"

# ---- how to connect --------------------------------------------------------
cat <<EOF

  moatftpd demo: ftp://127.0.0.1:$port/ (explicit TLS required)
  user:     demo
  password: $pass          (also in $pwfile)

  curl:     curl --ssl-reqd --cacert $run/cert.pem -u demo:$pass ftp://127.0.0.1:$port/
  lftp:     lftp -u demo,$pass -e 'set ssl:ca-file $run/cert.pem; set ftp:ssl-force true' -p $port 127.0.0.1
  moatftp:  MOATFTP_PASSWORD=$pass build/moatftp --cafile $run/cert.pem demo@127.0.0.1:$port
            (or leave out MOATFTP_PASSWORD and type the password)

  Transfers are logged to $run/xferlog.  Stop the server with Ctrl-C.

EOF

exec "$top/build/moatftpd" -f -c "$conf"
