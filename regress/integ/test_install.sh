#!/bin/sh
# `make install` / `make uninstall` into a temporary DESTDIR: the exact file
# list, modes, the PREFIX in the init script and unit, a kept configuration;
# then lint of the shipped files: sh -n and shellcheck on the scripts,
# groff -ww and man -l on the man pages, libconfig on moatftpd.conf, and
# logrotate on the snippet.  Prints "N passed, N failed"; exits 1 on a
# failure.  Safe to run in parallel with itself.
set -u

cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}

pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

ok()  { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; }
# check NAME COMMAND...: passes when the command succeeds.
check() {
	name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$name"
	else
		bad "$name"
		sed 's/^/     /' "$tmp/out"
	fi
}
# same NAME EXPECTED-FILE ACTUAL-FILE
same() {
	if diff -u "$2" "$3" >"$tmp/diff" 2>&1; then
		ok "$1"
	else
		bad "$1"
		sed 's/^/     /' "$tmp/diff"
	fi
}
# Files (and symlinks) under a tree, relative, sorted.
tree() { (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }
mode() { stat -c %a "$1"; }

# The installed programs, not build/'s, serve a real login and transfer:
# moatadm makes an account, moatftpd runs in the foreground on a free
# loopback port, curl uploads and downloads, moatftp lists; killed by PID.
installed_runs() {
	p=$1
	r=$tmp/run
	mkdir -p "$r/empty" && chmod 755 "$r/empty"
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	{
		echo "listen = [\"127.0.0.1:$port\"];"
		echo "user_db = \"$r/users.db\";"
		echo "home_root = \"$r/home\";"
		echo "jail_dir = \"$r/empty\";"
		echo "pidfile = \"$r/pid\";"
		echo 'tls_cert = "";'
		echo 'tls_key = "";'
		echo 'login_fail_delay = 0;'
	} > "$r/c.conf"
	check "installed moatadm useradd" sh -c \
	    "echo 'inst-pass-1' | '$p/sbin/moatadm' -c '$r/c.conf' useradd inst --password-stdin"
	"$p/sbin/moatftpd" -f -c "$r/c.conf" > "$r/log" 2>&1 &
	dpid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q "moatftpd started" "$r/log"; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "installed" > "$r/f.txt"
	check "installed moatftpd takes an upload (curl)" curl -sS \
	    --max-time 20 -u inst:inst-pass-1 -T "$r/f.txt" \
	    "ftp://127.0.0.1:$port/"
	check "installed moatftpd serves it back (curl)" sh -c \
	    "curl -sS --max-time 20 -u inst:inst-pass-1 ftp://127.0.0.1:$port/f.txt | grep -qx installed"
	check "installed moatftp lists it" sh -c \
	    "MOATFTP_PASSWORD=inst-pass-1 HOME='$r' '$p/bin/moatftp' --tls=off inst@127.0.0.1:$port ls | grep -q f.txt"
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
}

# ---- install ---------------------------------------------------------------
cat > "$tmp/expect-local" <<'EOF'
etc/init.d/moatftpd 755
etc/logrotate.d/moatftpd 644
etc/moatftpd/moatftpd.conf 644
lib/systemd/system/moatftpd.service 644
usr/local/bin/moatftp 755
usr/local/sbin/moatadm 755
usr/local/sbin/moatftpd 755
usr/local/share/man/man1/moatftp.1 644
usr/local/share/man/man5/moatftpd.conf.5 644
usr/local/share/man/man8/moatadm.8 644
usr/local/share/man/man8/moatftpd.8 644
EOF

built=yes
if [ ! -x "$BUILD/moatftpd" ] || [ ! -x "$BUILD/moatadm" ] ||
    [ ! -x "$BUILD/moatftp" ]; then
	check "make all (the programs are not built yet)" \
	    "$MAKE" --no-print-directory all
	[ -x "$BUILD/moatftpd" ] && [ -x "$BUILD/moatadm" ] &&
	    [ -x "$BUILD/moatftp" ] || built=no
fi

if [ "$built" = yes ]; then
	d=$tmp/root
	check "make install DESTDIR PREFIX=/usr/local" \
	    "$MAKE" --no-print-directory install DESTDIR="$d" PREFIX=/usr/local
	tree "$d" | while read -r f; do echo "$f $(mode "$d/$f")"; done \
	    > "$tmp/got-local"
	same "installed files and modes" "$tmp/expect-local" "$tmp/got-local"
	check "jail directory made" test -d "$d/var/empty/moatftpd"
	# where the example xferlog and the logrotate snippet put it; without
	# it a start with that xferlog fails its check (systemd makes it with
	# LogsDirectory=, the init script did not)
	check "log directory made" test -d "$d/var/log/moatftpd"
	check "log directory mode 755" test "$(mode "$d/var/log/moatftpd")" = 755
	check "installed conf is conf/moatftpd.conf" \
	    cmp conf/moatftpd.conf "$d/etc/moatftpd/moatftpd.conf"
	check "init script runs /usr/local/sbin/moatftpd" \
	    grep -q '^DAEMON=/usr/local/sbin/moatftpd$' "$d/etc/init.d/moatftpd"
	check "unit runs /usr/local/sbin/moatftpd" \
	    grep -q '^ExecStart=/usr/local/sbin/moatftpd ' \
	    "$d/lib/systemd/system/moatftpd.service"
	# systemctl reload checks the file first, as the init script does
	check "unit checks the file before a reload" \
	    grep -q '^ExecReload=/usr/local/sbin/moatftpd -t -c /etc/moatftpd/moatftpd.conf$' \
	    "$d/lib/systemd/system/moatftpd.service"
	if command -v systemd-analyze > /dev/null 2>&1; then
		# only the missing programs (not installed on this host) may
		# be reported
		systemd-analyze verify --man=no \
		    "$d/lib/systemd/system/moatftpd.service" > "$tmp/verify" 2>&1
		grep -v 'is not executable: No such file or directory' \
		    "$tmp/verify" > "$tmp/verify.left"
		same "systemd-analyze verify: nothing but the missing programs" \
		    /dev/null "$tmp/verify.left"
	fi
	check "installed moatftpd is build/moatftpd" \
	    cmp "$BUILD/moatftpd" "$d/usr/local/sbin/moatftpd"
	installed_runs "$d/usr/local"

	echo "# changed by the admin" >> "$d/etc/moatftpd/moatftpd.conf"
	cp "$d/etc/moatftpd/moatftpd.conf" "$tmp/admin.conf"
	check "make install again" \
	    "$MAKE" --no-print-directory install DESTDIR="$d" PREFIX=/usr/local
	check "install keeps an existing conf" \
	    cmp "$tmp/admin.conf" "$d/etc/moatftpd/moatftpd.conf"

	check "make uninstall" \
	    "$MAKE" --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr/local
	echo "etc/moatftpd/moatftpd.conf" > "$tmp/expect-left"
	tree "$d" > "$tmp/got-left"
	same "uninstall removes all but the conf" "$tmp/expect-left" "$tmp/got-left"
	check "uninstall removes the empty log directory" \
	    test ! -e "$d/var/log/moatftpd"

	d=$tmp/root-usr
	check "make install PREFIX=/usr" \
	    "$MAKE" --no-print-directory install DESTDIR="$d" PREFIX=/usr
	sed 's|^usr/local/|usr/|' "$tmp/expect-local" | cut -d' ' -f1 |
	    LC_ALL=C sort > "$tmp/expect-usr"
	tree "$d" > "$tmp/got-usr"
	same "installed files with PREFIX=/usr" "$tmp/expect-usr" "$tmp/got-usr"
	check "init script runs /usr/sbin/moatftpd with PREFIX=/usr" \
	    grep -q '^DAEMON=/usr/sbin/moatftpd$' "$d/etc/init.d/moatftpd"
	check "unit runs /usr/sbin/moatftpd with PREFIX=/usr" \
	    grep -q '^ExecStart=/usr/sbin/moatftpd ' \
	    "$d/lib/systemd/system/moatftpd.service"
	check "installed init script still passes sh -n" \
	    sh -n "$d/etc/init.d/moatftpd"
	if command -v logrotate >/dev/null 2>&1; then
		check "logrotate accepts the snippet" \
		    logrotate -d -s "$tmp/lr.state" "$d/etc/logrotate.d/moatftpd"
	fi
else
	bad "install checks skipped: the programs do not build"
fi

# ---- operations --------------------------------------------------------------
# build/moatftpd as a system daemon (no -f: it detaches and logs to syslog),
# each in a directory of its own with an account "ops".
freeport() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# mkconf DIR [LINE...]: DIR/c.conf for a daemon on a free loopback port
# ($port), TLS off, the pidfile DIR/pid, and the LINEs; the account.
mkconf() {
	d=$1
	shift
	mkdir -p "$d/empty" && chmod 755 "$d/empty"
	port=$(freeport)
	{
		echo "listen = [\"127.0.0.1:$port\"];"
		echo "user_db = \"$d/users.db\";"
		echo "home_root = \"$d/home\";"
		echo "jail_dir = \"$d/empty\";"
		echo "pidfile = \"$d/pid\";"
		echo 'tls_cert = "";'
		echo 'tls_key = "";'
		echo 'login_fail_delay = 0;'
		echo 'shutdown_grace = 1;'
		for l in "$@"; do
			echo "$l"
		done
	} > "$d/c.conf"
	chmod 0644 "$d/c.conf"
	echo 'ops-pass-1' | "$top/$BUILD/moatadm" -c "$d/c.conf" useradd ops \
	    --password-stdin > /dev/null 2>&1
}
# wait_for N COMMAND...: up to N tenths of a second for COMMAND to succeed.
wait_for() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
# stop_daemon DIR: SIGTERM to the pid in DIR/pid, wait for the pidfile to go.
stop_daemon() {
	[ -s "$1/pid" ] && kill "$(cat "$1/pid")" 2>/dev/null
	wait_for 100 test ! -e "$1/pid"
}
# A upload, the file back and a listing: curl as the account ops.
transfers() {
	echo "ops $2" > "$1/up.txt"
	check "$2: upload (curl)" curl -sS --max-time 20 -u ops:ops-pass-1 \
	    -T "$1/up.txt" "ftp://127.0.0.1:$port/up.txt"
	check "$2: download (curl)" sh -c "curl -sS --max-time 20 \
	    -u ops:ops-pass-1 ftp://127.0.0.1:$port/up.txt | grep -qx 'ops $2'"
}

# On a systemd host /dev/log is a symlink to journald's socket, so the
# syslog socket's peer is /run/systemd/journal/dev-log. Monitors, jails and
# sessions must keep that socket too: closed behind syslog(3)'s back, its
# number went to the next file opened, which syslog(3) wrote to and closed
# (an upload failed with 550), and sessions logged nothing. Made here in a
# private mount namespace: a tmpfs /dev whose log is a symlink.
syslog_symlink() {
	r=$tmp/slog
	mkconf "$r"
	mkdir -p "$r/journal" "$r/olddev"
	/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(65536).decode(errors="replace") + "\n")
' "$r/journal/dev-log" "$r/syslog" &
	lpid=$!
	wait_for 50 test -S "$r/journal/dev-log"
	cat > "$r/ns.sh" <<EOF
set -e
mount --make-rprivate /
mount --bind /dev "$r/olddev"
mount -t tmpfs -o mode=755 none /dev
for n in null zero full random urandom; do
	touch /dev/\$n
	mount --bind "$r/olddev/\$n" /dev/\$n
done
ln -s /proc/self/fd /dev/fd
ln -s "$r/journal/dev-log" /dev/log
exec "$top/$BUILD/moatftpd" -c "$r/c.conf"
EOF
	check "journald /dev/log: the daemon starts" unshare -m sh "$r/ns.sh"
	wait_for 50 test -s "$r/pid"
	transfers "$r" "journald /dev/log"
	check "journald /dev/log: logout logged" \
	    wait_for 50 grep -q 'logout ops from 127.0.0.1' "$r/syslog"
	for w in "login ops from" "session of ops" "STOR /up.txt" \
	    "RETR /up.txt" "moatftpd started"; do
		check "journald /dev/log: syslog has \"$w\"" \
		    grep -q "$w" "$r/syslog"
	done
	# A reload applies a new log_facility (local3 at info: <158>); it
	# went on logging to the old one. A new pidfile waits for a restart:
	# the old one stays, locked, and is removed at the stop.
	echo 'log_facility = "local3";' >> "$r/c.conf"
	sed -i "s|^pidfile = .*|pidfile = \"$r/pid2\";|" "$r/c.conf"
	kill -HUP "$(cat "$r/pid")"
	check "reload: the new log_facility is in force" wait_for 50 \
	    grep -q '^<158>.*log_facility is now "local3"' "$r/syslog"
	curl -sS --max-time 20 -u ops:ops-pass-1 "ftp://127.0.0.1:$port/" \
	    > /dev/null 2>&1
	check "reload: sessions log to the new facility" wait_for 50 \
	    grep -q '^<158>.*login ops from' "$r/syslog"
	check "reload: a new pidfile waits for the next start" \
	    grep -q "pidfile \"$r/pid2\" takes effect at the next start" \
	    "$r/syslog"
	check "reload: the pidfile stays" test -s "$r/pid"
	check "reload: no second pidfile" test ! -e "$r/pid2"
	stop_daemon "$r"
	check "stop: the pidfile is removed" test ! -e "$r/pid"
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
}

# A start without -f (as the init script and systemd's Type=forking run
# it) returns once the daemon is ready: the pidfile names the master, and a
# SIGHUP sent at once (moatadm signals every db change) is a reload. The
# starting process used to exit at the fork, before the pidfile was written
# and before SIGHUP was handled, so a SIGHUP then killed the daemon.
start_ready() {
	r=$tmp/ready
	mkconf "$r"
	i=0 early=0 dead=0
	while [ $i -lt 5 ]; do
		"$top/$BUILD/moatftpd" -c "$r/c.conf" || break
		if [ ! -s "$r/pid" ]; then
			early=$((early + 1))
			wait_for 50 test -s "$r/pid"
		fi
		p=$(cat "$r/pid" 2>/dev/null)
		kill -HUP "$p" 2>/dev/null
		sleep 0.2
		if ! kill -0 "$p" 2>/dev/null ||
		    [ "$(cat "/proc/$p/comm" 2>/dev/null)" != moatftpd ]; then
			dead=$((dead + 1))
			rm -f "$r/pid" "$r/pid.sb"
		else
			stop_daemon "$r"
		fi
		i=$((i + 1))
	done
	check "start: 5 starts ran" test "$i" -eq 5
	check "start: the pidfile is written when the start returns ($early of 5 were not)" \
	    test "$early" -eq 0
	check "start: a SIGHUP right after the start is a reload ($dead of 5 died)" \
	    test "$dead" -eq 0
	command -v strace > /dev/null 2>&1 || return 0
	# The same with the daemon's side slowed down by strace (0.5 s in
	# setsid, which the detached child calls, and in socketpair, which
	# the start calls near its end): the race every time.
	r=$tmp/ready-strace
	mkconf "$r" 'prefork_spares = 0;'
	strace -f -o "$r/st" -e trace=setsid,socketpair \
	    -e inject=setsid:delay_exit=500000 \
	    -e inject=socketpair:delay_exit=500000 \
	    "$top/$BUILD/moatftpd" -c "$r/c.conf" &
	spid=$!
	# the first pid strace names is the starting process
	wait_for 100 test -s "$r/st"
	first=$(sed -n '1s/ .*//p' "$r/st")
	wait_for 100 grep -Eq "^$first +[+]{3} exited" "$r/st"
	check "start (slowed): the start returned 0" \
	    grep -Eq "^$first +[+]{3} exited with 0" "$r/st"
	check "start (slowed): the pidfile is written when the start returns" \
	    test -s "$r/pid"
	wait_for 50 test -s "$r/pid"
	p=$(cat "$r/pid" 2>/dev/null)
	kill -HUP "$p" 2>/dev/null
	sleep 1
	check "start (slowed): a SIGHUP right after the start is a reload" \
	    sh -c "! grep -q 'killed by SIGHUP' '$r/st'"
	stop_daemon "$r"
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	# The starting process, while it waits for the daemon, still dies of
	# a SIGTERM (or a Ctrl-C): it had the master's handlers, which only
	# noted the signal, so nothing but SIGKILL ended a start that hung.
	r=$tmp/ready-term
	mkconf "$r" 'prefork_spares = 0;'
	strace -f -o "$r/st" -e trace=setsid \
	    -e inject=setsid:delay_exit=2000000 \
	    "$top/$BUILD/moatftpd" -c "$r/c.conf" &
	spid=$!
	wait_for 100 test -s "$r/st"
	starter=$(pgrep -P "$spid" | head -n 1)
	kill -TERM "$starter" 2>/dev/null
	check "start: a SIGTERM ends the waiting start" \
	    wait_for 10 grep -Eq "^$starter +[+]{3} killed by SIGTERM" "$r/st"
	wait_for 50 test -s "$r/pid"
	stop_daemon "$r"
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
}

# log_level = "err" still says why a start fails, and a fatal error is an
# error: nothing was ever logged at "err", so such a daemon that did not
# start said nothing at all.
log_err_level() {
	r=$tmp/errlevel
	mkconf "$r" 'log_level = "err";'
	/usr/bin/python3 -c '
import socket, subprocess, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL,
    stderr=subprocess.PIPE, text=True, timeout=30)
sys.stdout.write(r.stderr + "exit %d\n" % r.returncode)
' "$port" "$top/$BUILD/moatftpd" -f -c "$r/c.conf" > "$r/out" 2>&1
	check "log_level err: a start on a busy port fails" grep -qx 'exit 1' "$r/out"
	check "log_level err: and says why" grep -q \
	    "listen \"127.0.0.1:$port\": Address already in use" "$r/out"
}

# The init script's actions and LSB exit codes, with build/moatftpd and a
# test configuration (MOATFTPD_DEFAULTS names the settings file).
# irc EXPECTED ACTION [NAME]: run the script, compare its exit status.
irc() {
	MOATFTPD_DEFAULTS=$r/defaults sh conf/moatftpd.init "$2" \
	    > "$r/init.out" 2>&1
	got=$?
	if [ "$got" -eq "$1" ]; then
		ok "init ${3:-$2}: exit $1"
	else
		bad "init ${3:-$2}: exit $got, not $1"
		sed 's/^/     /' "$r/init.out"
	fi
}
live() { [ -s "$r/pid" ] && kill -0 "$(cat "$r/pid")" 2>/dev/null; }
init_script() {
	r=$tmp/init
	mkconf "$r"
	{
		echo "DAEMON=$top/$BUILD/moatftpd"
		echo "CONF=$r/c.conf"
		echo "STOP_TIMEOUT=10"
	} > "$r/defaults"
	irc 3 status "status, never started"
	irc 0 stop "stop, not running"
	irc 7 reload "reload, not running"
	irc 0 start
	check "init start: the daemon runs" live
	p1=$(cat "$r/pid")
	transfers "$r" "init start"
	irc 0 start "start, already running"
	check "init start, already running: the same daemon" \
	    test "$(cat "$r/pid")" = "$p1"
	irc 0 status
	irc 0 reload
	irc 0 force-reload
	sleep 0.3
	check "init reload: the same daemon runs" test "$(cat "$r/pid")" = "$p1"
	check "init reload: alive" live
	irc 0 configtest
	irc 0 restart
	check "init restart: a new daemon" sh -c \
	    "test \"\$(cat '$r/pid')\" != '$p1'"
	transfers "$r" "init restart"
	# a bad file: start and restart refuse (6) and leave the daemon be
	cp "$r/c.conf" "$r/c.good"
	echo 'max_clients = 0;' >> "$r/c.conf"
	irc 6 restart "restart, bad config"
	irc 6 reload "reload, bad config"
	check "init restart, bad config: the daemon still runs" live
	cp "$r/c.good" "$r/c.conf"
	irc 0 stop
	check "init stop: the daemon is gone" sh -c "! kill -0 $p1 2>/dev/null"
	check "init stop: the pidfile is gone" test ! -e "$r/pid"
	irc 3 status "status, stopped"
	# a stale pidfile: a dead process, then a live one not moatftpd
	sh -c 'echo $$' > "$r/pid"
	irc 1 status "status, stale pidfile"
	irc 0 start "start, stale pidfile"
	check "init start, stale pidfile: the daemon runs" live
	irc 0 stop "stop after a stale pidfile"
	sleep 60 &
	sp=$!
	echo "$sp" > "$r/pid"
	irc 0 stop "stop, pidfile names another program"
	check "init stop: another program is not signalled" kill -0 "$sp"
	kill "$sp"
	wait "$sp" 2>/dev/null
	rm -f "$r/pid"
	echo 'max_clients = 0;' >> "$r/c.conf"
	irc 6 start "start, bad config"
	irc 2 bogus "an unknown action"
	cp "$r/c.good" "$r/c.conf"
	echo "DAEMON=$r/nonesuch" >> "$r/defaults"
	irc 5 start "start, no daemon binary"
}

# moatftpd -c with a relative path, run from the file's directory: the
# detached daemon works in /, and its reloads read that same file (they
# read /c.conf, failed, and kept the old configuration). Seen by a new
# listen address that only a reload can bring.
reload_relative() {
	r=$tmp/relconf
	mkconf "$r"
	old=$port
	(cd "$r" && "$top/$BUILD/moatftpd" -c c.conf)
	check "relative -c: the daemon starts" wait_for 50 test -s "$r/pid"
	new=$(freeport)
	sed -i "s|127.0.0.1:$old|127.0.0.1:$new|" "$r/c.conf"
	kill -HUP "$(cat "$r/pid")"
	check "relative -c: a reload reads the file (new listen address)" \
	    wait_for 50 curl -sS --max-time 5 -u ops:ops-pass-1 \
	    "ftp://127.0.0.1:$new/"
	stop_daemon "$r"
}

# The shipped logrotate snippet, its paths moved into a test directory,
# rotates a live daemon's xferlog: the old lines stay in xferlog.1, and
# the next transfer (a new session) lands in the new file (SIGUSR1).
logrotate_live() {
	r=$tmp/lrot
	mkconf "$r" "xferlog = \"$r/xferlog\";"
	sed -e "s|/var/log/moatftpd/xferlog|$r/xferlog|" \
	    -e "s|/run/moatftpd.pid|$r/pid|g" conf/moatftpd.logrotate \
	    > "$r/lr.conf"
	"$top/$BUILD/moatftpd" -c "$r/c.conf"
	transfers "$r" "logrotate before"
	check "logrotate: the daemon's xferlog has the upload" \
	    grep -q ' /up.txt b _ i r ops ftp 0 \* c$' "$r/xferlog"
	check "logrotate -f rotates it" logrotate -f -s "$r/state" "$r/lr.conf"
	check "logrotate: the old lines are in xferlog.1" \
	    grep -q ' /up.txt b _ i r ops ftp 0 \* c$' "$r/xferlog.1"
	check "logrotate: the new xferlog is 0640" \
	    test "$(mode "$r/xferlog")" = 640
	transfers "$r" "logrotate after"
	check "logrotate: the next transfers go to the new file" \
	    wait_for 50 grep -q ' /up.txt b _ o r ops ftp 0 \* c$' "$r/xferlog"
	stop_daemon "$r"
}

if [ "$(id -u)" -eq 0 ] && [ -x "$BUILD/moatftpd" ]; then
	start_ready
	command -v logrotate > /dev/null 2>&1 && logrotate_live
	reload_relative
	init_script
	log_err_level
fi

if [ "$(id -u)" -eq 0 ] && [ -x "$BUILD/moatftpd" ] &&
    command -v unshare >/dev/null 2>&1 &&
    unshare -m true 2>/dev/null; then
	syslog_symlink
else
	echo "skip journald /dev/log: needs root and unshare -m"
fi

# ---- scripts -----------------------------------------------------------------
for f in conf/moatftpd.init conf/demo.sh regress/integ/test_install.sh; do
	check "sh -n $f" sh -n "$f"
	if command -v shellcheck >/dev/null 2>&1; then
		check "shellcheck $f" shellcheck "$f"
	else
		bad "shellcheck $f: shellcheck is not installed"
	fi
done
check "init script has LSB headers" \
    grep -q '^### BEGIN INIT INFO' conf/moatftpd.init

# ---- man pages ---------------------------------------------------------------
for m in conf/moatftpd.8 conf/moatftpd.conf.5 conf/moatadm.8 conf/moatftp.1; do
	if ! command -v groff >/dev/null 2>&1; then
		bad "groff $m: groff is not installed"
		continue
	fi
	groff -ww -mandoc -Tutf8 -z "$m" > "$tmp/groff" 2>&1
	if [ -s "$tmp/groff" ]; then
		bad "groff -ww $m"
		sed 's/^/     /' "$tmp/groff"
	else
		ok "groff -ww $m"
	fi
	# mandoc's warnings and worse (its style notes and the pages that
	# are not installed here are left out)
	if command -v mandoc >/dev/null 2>&1; then
		check "mandoc -Tlint -Wwarning $m" mandoc -Tlint -Wwarning "$m"
	fi
	if command -v man >/dev/null 2>&1; then
		if MANWIDTH=80 man -l "$m" > "$tmp/man" 2> "$tmp/man.err" &&
		    [ ! -s "$tmp/man.err" ] && [ -s "$tmp/man" ]; then
			ok "man -l $m"
		else
			bad "man -l $m"
			sed 's/^/     /' "$tmp/man.err"
		fi
	fi
done

# ---- what the programs take is documented --------------------------------------
# Each moatadm command (its table in admin/main.c) in moatadm(8) and in
# `moatadm help`; each moatftp option (getopt_long's table and the short
# options) in moatftp(1) and --help; each key of moatftpd.conf in
# moatftpd.conf(5).
sed -n 's/^	{ "\([a-z]*\)",.*cmd_.*/\1/p' admin/main.c > "$tmp/adm-cmds"
check "moatadm: the command table was read" test -s "$tmp/adm-cmds"
if [ -x "$BUILD/moatadm" ]; then
	"$BUILD/moatadm" help > "$tmp/adm-help" 2>&1
	check "moatadm help exits 0" test $? -eq 0
	"$BUILD/moatadm" -h > "$tmp/adm-h" 2>&1
	check "moatadm -h is moatadm help" cmp "$tmp/adm-help" "$tmp/adm-h"
	check "moatadm help lists help" grep -q "moatadm -h | help" "$tmp/adm-help"
	echo help >> "$tmp/adm-cmds"
	# an item is ".It Cm NAME ..." or ".It Xo" then ".Cm NAME"
	grep -A1 '^\.It' conf/moatadm.8 > "$tmp/adm-items"
	while read -r c; do
		[ "$c" = help ] || check "moatadm help lists $c" \
		    grep -q "moatadm $c\\b" "$tmp/adm-help"
		check "moatadm.8 documents $c" grep -q "Cm $c\\b" "$tmp/adm-items"
	done < "$tmp/adm-cmds"
fi
sed -n 's/^	{ "\([a-z-]*\)",.*_argument.*/\1/p' client/main.c > "$tmp/cli-long"
check "moatftp: the option table was read" test -s "$tmp/cli-long"
if [ -x "$BUILD/moatftp" ]; then
	"$BUILD/moatftp" --help > "$tmp/cli-help" 2>&1
	check "moatftp --help exits 0" test $? -eq 0
	while read -r o; do
		[ "$o" = help ] || check "moatftp --help shows --$o" \
		    grep -q -- "--$o" "$tmp/cli-help"
		check "moatftp.1 documents --$o" grep -q "^\\.It .*Fl -$o\\b" conf/moatftp.1
	done < "$tmp/cli-long"
	for o in $(sed -n 's/.*getopt_long(argc, argv, "+\([A-Za-z:]*\)".*/\1/p' \
	    client/main.c | tr -d ':' | fold -w1); do
		check "moatftp.1 documents -$o" grep -q "^\\.It Fl $o\\b" conf/moatftp.1
	done
fi
sed -n 's/^#\([a-z_][a-z_0-9]*\) = .*/\1/p' conf/moatftpd.conf | sort -u |
    while read -r k; do
	grep -q "^\\.It Ic $k No\\|^\\.It Ic .*[ ,]$k No\\|Ic $k No = " \
	    conf/moatftpd.conf.5 || echo "$k"
done > "$tmp/undoc"
same "moatftpd.conf(5) documents every key" /dev/null "$tmp/undoc"

# ---- moatftpd.conf -----------------------------------------------------------
# Every field of struct config (but path and nlisten) is a key in the file.
sed -n '/^struct config {/,/^};/p' shared/config.h |
    sed -n 's/^[^/]*[[:space:]*]\([a-z_][a-z_0-9]*\)\(\[[^]]*\]\)*;.*/\1/p' |
    grep -v -e '^path$' -e '^nlisten$' -e '^nproxy_from$' | LC_ALL=C sort > "$tmp/keys-h"
sed -n 's/^#\([a-z_][a-z_0-9]*\) = .*/\1/p' conf/moatftpd.conf |
    LC_ALL=C sort > "$tmp/keys-conf"
same "moatftpd.conf has every key of struct config" "$tmp/keys-h" "$tmp/keys-conf"

# The same file with the defaults uncommented (tls_require_login stays
# automatic), a value continued on the next lines (#<tab>"...") too.
sed -E -e '/^#tls_require_login /!s/^#([a-z_]+ = )/\1/' \
    -e 's/^#(	")/\1/' conf/moatftpd.conf > "$tmp/uncommented.conf"
cp conf/moatftpd.conf "$tmp/moatftpd.conf"
chmod 0644 "$tmp/uncommented.conf" "$tmp/moatftpd.conf"

if command -v cc >/dev/null 2>&1 && pkg-config --exists libconfig 2>/dev/null; then
	cat > "$tmp/cfgparse.c" <<'EOF'
#include <stdio.h>
#include <libconfig.h>
int
main(int argc, char **argv)
{
	config_t c;
	int i;

	config_init(&c);
	for (i = 1; i < argc; i++)
		if (!config_read_file(&c, argv[i])) {
			fprintf(stderr, "%s:%d: %s\n", argv[i],
			    config_error_line(&c), config_error_text(&c));
			return 1;
		}
	config_destroy(&c);
	return 0;
}
EOF
	# shellcheck disable=SC2046
	if cc -o "$tmp/cfgparse" "$tmp/cfgparse.c" \
	    $(pkg-config --cflags --libs libconfig) > "$tmp/cc.out" 2>&1; then
		check "libconfig parses moatftpd.conf" \
		    "$tmp/cfgparse" "$tmp/moatftpd.conf"
		check "libconfig parses moatftpd.conf uncommented" \
		    "$tmp/cfgparse" "$tmp/uncommented.conf"
	else
		bad "compile the libconfig checker"
		sed 's/^/     /' "$tmp/cc.out"
	fi
fi

if [ -x "$BUILD/moatftpd" ]; then
	# The file's values are the compiled-in defaults. -n: the file alone,
	# not this machine (which has no /etc/moatftpd, say).
	"$top/$BUILD/moatftpd" -t -n -c "$tmp/moatftpd.conf" > "$tmp/t1" 2>&1
	echo "exit $?" >> "$tmp/t1"
	"$top/$BUILD/moatftpd" -t -n -c "$tmp/uncommented.conf" > "$tmp/t2" 2>&1
	echo "exit $?" >> "$tmp/t2"
	check "moatftpd -t -n accepts conf/moatftpd.conf" grep -qx 'exit 0' "$tmp/t1"
	check "moatftpd -t -n accepts it uncommented" grep -qx 'exit 0' "$tmp/t2"
	sed -i "s|$tmp/[a-z]*\.conf|FILE|g" "$tmp/t1" "$tmp/t2"
	same "moatftpd -t: the values in moatftpd.conf are the defaults" \
	    "$tmp/t1" "$tmp/t2"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
