"""Pre-forked spares (prefork_spares): monitor+jail pairs forked ahead of
need, against the real daemon as root and as an ordinary user.

- The master keeps prefork_spares of them; each spare jail is already
  dropped, chrooted and filtered before any client exists.
- A connection is served by a spare (its monitor's pid becomes the
  session's), and the master forks a replacement.
- Plain and TLS logins work through spares; a burst larger than the spares
  is served too (the rest are forked as before).
- SIGHUP replaces every spare (they hold the old configuration); a spare
  that dies is logged and replaced; prefork_spares = 0 forks per
  connection.
"""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import (SLOW, Daemon, Runner, NOBODY, proc_title,  # noqa: E402
                    proc_status as status)
from ftpraw import Ctl, wait_for  # noqa: E402


def kids_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def n_spares(d, n):
    return wait_for(lambda: len(d.spares()) == n and d.spares(), 10 * SLOW)


def t_spares_ready(d):
    """4 spares by default, each with one jail that is already confined."""
    sp = n_spares(d, 4)
    assert sp, d.spares()
    for pid in sp:
        jails = wait_for(lambda: [
            k for k in kids_of(pid)
            if proc_title(k).startswith(b"moatftpd: [spare-jail]") and
            status(k)["Seccomp"] == ["2"]], 5)
        assert len(jails) == 1, (pid, kids_of(pid))
        st = status(jails[0])
        if d.root:
            assert st["Uid"] == [str(NOBODY)] * 4, st["Uid"]
            assert os.readlink("/proc/%d/root" % jails[0]) == \
                os.path.realpath(d.settings["jail_dir"].strip('"'))
        assert st["NoNewPrivs"] == ["1"]
        assert status(pid)["Seccomp"] == ["2"]     # the spare monitor


def t_served_by_spare(d):
    """The session is a former spare; a new spare replaces it."""
    before = set(n_spares(d, 4))
    f = d.ftp("alice")
    assert f.pwd() == "/"
    sess = [p for p in d.children()
            if proc_title(p).startswith(b"moatftpd: alice@")]
    assert len(sess) == 1 and sess[0] in before, (sess, before)
    after = n_spares(d, 4)
    assert after and sess[0] not in after
    f.quit()


def t_burst(d):
    """Ten at once with four spares: every one is greeted and logs in."""
    errs = []

    def one(i):
        try:
            f = d.ftp("alice")
            f.voidcmd("NOOP")
            f.quit()
        except Exception as e:      # noqa: BLE001 - reported below
            errs.append(repr(e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errs, errs
    assert n_spares(d, 4)


def t_reload_replaces(d):
    old = set(n_spares(d, 4))
    d.signal(signal.SIGHUP)
    assert wait_for(lambda: len(d.spares()) == 4 and
                    not (set(d.spares()) & old), 10 * SLOW), \
        (old, d.spares())
    f = d.ftp("alice")
    f.quit()


def t_dead_spare(d):
    old = n_spares(d, 4)
    os.kill(old[0], signal.SIGKILL)
    assert wait_for(lambda: "spare %d ended" % old[0] in d.read_log(), 5)
    assert wait_for(lambda: len(d.spares()) == 4 and
                    old[0] not in d.spares(), 5 * SLOW), d.spares()
    f = d.ftp("alice")
    f.quit()


def t_none(root):
    d = Daemon(root=root, users={"alice": None},
               extra={"prefork_spares": "0"}).start()
    try:
        f = d.ftp("alice")
        assert not d.spares(), d.spares()
        f.quit()
    finally:
        d.stop()


def t_tls(root):
    d = Daemon(root=root, tls=True, users={"alice": None}).start()
    try:
        before = set(n_spares(d, 4))
        f = d.ftp("alice")
        assert f.nlst() == []
        sess = [p for p in d.children()
                if proc_title(p).startswith(b"moatftpd: alice@")]
        assert sess and sess[0] in before, (sess, before)
        f.quit()
    finally:
        d.stop()


def main():
    r = Runner("prefork")
    for root in (True, False):
        tag = "root" if root else "user"
        # ten logins of one account at once in t_burst
        d = Daemon(root=root, users={"alice": None},
                   extra={"max_per_user": "20"}).start()
        try:
            for fn in (t_spares_ready, t_served_by_spare, t_burst,
                       t_reload_replaces, t_dead_spare):
                def case(fn=fn):
                    fn(d)
                case.__name__ = "%s[%s]" % (fn.__name__[2:], tag)
                r.run(case)
        finally:
            d.stop()
        for fn in (t_none, t_tls):
            def case(fn=fn):
                fn(root)
            case.__name__ = "%s[%s]" % (fn.__name__[2:], tag)
            r.run(case)
    r.done()


main()
