"""A change made with moatadm reaches the running daemon at once, even for
connections accepted before it (their monitor re-reads a stale user db):
a new password, a lock, a new quota; a removed account's sessions end. A reload to a configuration that
would not start (a key that does not load, a writable jail_dir) keeps the
old one, and TLS logins go on."""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import Daemon, Runner  # noqa: E402


class Early:
    """A control connection opened now, logged in later."""

    def __init__(self, d):
        self.s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        self.f = self.s.makefile("rb")
        assert self.f.readline().startswith(b"220")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.f.readline().decode()

    def login(self, user, pw):
        assert self.cmd("USER " + user).startswith("331")
        return self.cmd("PASS " + pw)

    def close(self):
        self.s.close()


def wait_reload(d, n):
    end = time.time() + 10
    # logged once the new db is in place and its generation bumped
    while d.read_log().count("user db re-read") < n and time.time() < end:
        time.sleep(0.05)
    assert d.read_log().count("user db re-read") >= n, d.read_log()


def t_password_and_lock():
    d = Daemon(users={"alice": None, "bob": None}).start()
    try:
        old = d.passwords["alice"]
        a, b = Early(d), Early(d)
        d.adm("passwd", "alice", "--password-stdin", input="new-pass-123\n")
        wait_reload(d, 1)
        r = a.login("alice", old)
        assert r.startswith("530"), r
        r = b.login("alice", "new-pass-123")
        assert r.startswith("230"), r
        a.close()
        b.close()
        c = Early(d)
        d.adm("lock", "bob")
        wait_reload(d, 2)
        r = c.login("bob", d.passwords["bob"])
        assert r.startswith("530"), r
        c.close()
    finally:
        d.stop()


def t_quota_before_first_login():
    d = Daemon(users={"alice": "1M"}).start()
    try:
        a = Early(d)
        d.adm("quota", "alice", "3M")
        wait_reload(d, 1)
        assert a.login("alice", d.passwords["alice"]).startswith("230")
        r = a.cmd("SITE QUOTA")
        assert r.startswith("200") and "limit=3145728" in r, r
        a.close()
    finally:
        d.stop()


def t_userdel_ends_sessions():
    """moatadm userdel ends the removed account's live sessions (421);
    other accounts' sessions go on."""
    d = Daemon(users={"alice": None, "bob": None}).start()
    try:
        a, b = Early(d), Early(d)
        assert a.login("alice", d.passwords["alice"]).startswith("230")
        assert b.login("bob", d.passwords["bob"]).startswith("230")
        d.adm("userdel", "alice")
        wait_reload(d, 1)
        a.s.settimeout(10)
        r = a.f.readline().decode()
        assert r.startswith("421"), r
        assert a.f.readline() == b"", "still open"
        assert b.cmd("NOOP").startswith("200")
        assert "account alice is gone" in d.read_log()
        a.close()
        b.close()
    finally:
        d.stop()


def t_bad_config_kept():
    d = Daemon(tls=True, users={"alice": None}).start()
    try:
        good = dict(d.settings)
        bad_key = os.path.join(d.dir, "bad-key.pem")
        with open(bad_key, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nbroken\n"
                    "-----END PRIVATE KEY-----\n")
        os.chmod(bad_key, 0o600)
        empty = os.path.join(d.dir, "empty")
        cases = [("tls_key", '"%s"' % bad_key, "cannot use")]
        if d.root:
            cases.append(("jail_dir", '"%s"' % os.path.join(d.dir, "wjail"),
                          "must be owned by root"))
            os.mkdir(os.path.join(d.dir, "wjail"))
            os.chmod(os.path.join(d.dir, "wjail"), 0o777)
        for n, (key, value, why) in enumerate(cases, 1):
            d.settings = dict(good)
            d.settings[key] = value
            d.write_conf()
            d.signal(signal.SIGHUP)
            end = time.time() + 10
            while (d.read_log().count("reload: keeping the old "
                                      "configuration") < n and
                   time.time() < end):
                time.sleep(0.05)
            log = d.read_log()
            assert log.count("reload: keeping the old configuration") == n \
                and why in log, log[-2000:]
            f = d.ftp("alice")          # TLS, PROT P: still served
            assert f.nlst() == []
            if d.root:
                # this login's jail (its TLS relay now) is in the old
                # jail_dir, not the refused one
                roots = set()
                for p in d.children():
                    try:
                        roots.add(os.readlink("/proc/%d/root" % p))
                    except OSError:
                        pass
                assert os.path.realpath(empty) in roots, roots
                assert not any(r.endswith("/wjail") for r in roots), roots
            f.quit()
        d.settings = good
        d.write_conf()
    finally:
        d.stop()


r = Runner("reload")
r.run(t_password_and_lock)
r.run(t_quota_before_first_login)
r.run(t_userdel_ends_sessions)
r.run(t_bad_config_kept)
r.done()
