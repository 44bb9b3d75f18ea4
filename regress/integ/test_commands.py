"""Every FTP command against the real daemon, as root and as an ordinary
user: good and bad arguments, passive and active data connections, UTF-8
names, malformed input, the data-channel policy (no bounce, no stranger on
PASV, data_timeout), and curl and lftp doing the everyday things."""
import ftplib
import hashlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import Daemon, Runner, expect_error  # noqa: E402
from ftpraw import Ctl  # noqa: E402

MODES = (True, False)


def with_daemon(fn, root, **kw):
    d = Daemon(root=root, **kw).start()
    try:
        fn(d)
    finally:
        d.stop()


# -- login -------------------------------------------------------------------

def t_login(d):
    # good login, with ftplib
    f = d.ftp()
    assert f.pwd() == "/"
    f.quit()
    # bad password: 530, and the connection may try again
    f = d.ftp(login=False)
    expect_error(530, f.login, "alice", "wrong-password")
    f.login("alice", d.passwords["alice"])
    f.quit()
    # unknown user looks the same as a bad password
    f = d.ftp(login=False)
    expect_error(530, f.login, "nosuchuser", "x")
    f.close()
    # order errors before login
    c = Ctl(d, login=False)
    c.expect("PASS x", 503)             # PASS before USER
    c.expect("USER", 501)               # USER needs a name
    c.expect("PWD", 530)                # not logged in yet
    c.expect("LIST", 530)
    c.expect("XYZZY", 530)
    c.expect("SYST", 215)
    c.expect("NOOP", 200)
    c.expect("FEAT", 211)
    c.expect("HELP", 214)
    c.expect("USER alice", 331)
    c.expect("PASS bad", 530)
    c.expect("PASS " + d.passwords["alice"], 503)   # the USER was used up
    c.login("alice", d.passwords["alice"])
    # after login: USER/PASS again are refused, the session stays
    c.expect("USER bob", 530)
    c.expect("PASS x", 503)
    c.expect("PWD", 257)
    c.expect("QUIT", 221)
    c.close()


# -- every command -----------------------------------------------------------

NEEDS_ARG = ("ALLO", "APPE", "CWD", "DELE", "EPRT", "HASH", "MDTM", "MFMT",
             "MKD", "MODE", "OPTS", "PORT", "REST", "RETR", "RMD", "RNFR",
             "RNTO", "SITE", "SIZE", "STOR", "STRU", "TYPE", "XCWD", "XMD5",
             "XMKD", "XRMD", "XSHA1", "XSHA256")


def t_simple_commands(d):
    c = Ctl(d)
    c.expect("SYST", 215)
    feat = c.expect("FEAT", 211)
    for want in ("UTF8", "EPSV", "EPRT", "MDTM", "MFMT", "SIZE",
                 "REST STREAM", "MLST ", "HASH "):
        assert "\n " + want in feat, (want, feat)
    c.expect("OPTS UTF8 ON", 200)
    c.expect("OPTS UTF8 OFF", 200)
    c.expect("OPTS utf8 on", 200)
    c.expect("OPTS MLST type;size;modify;", 200)
    assert "SHA-1" in c.expect("OPTS HASH SHA-1", 200)
    assert "SHA-1" in c.expect("OPTS HASH", 200)
    c.expect("OPTS HASH CRC-99", 504)
    c.expect("OPTS HASH SHA-256", 200)
    c.expect("OPTS FROB", 501)
    for verb in NEEDS_ARG:
        c.expect(verb, 501)
    c.expect("XYZZY", 502)
    c.expect("SMNT /", 502)
    c.expect("REIN", 502)
    c.expect("ACCT x", 502)
    c.expect("NOOP", 200)
    c.expect("noop", 200)               # verbs are case-insensitive
    assert '"/"' in c.expect("PWD", 257)
    assert '"/"' in c.expect("XPWD", 257)
    c.expect("TYPE A", 200)
    c.expect("TYPE I", 200)
    c.expect("TYPE A N", 200)
    c.expect("TYPE L 8", 200)
    c.expect("TYPE E", 504)
    c.expect("TYPE X", 504)
    c.expect("MODE S", 200)
    c.expect("MODE B", 504)
    c.expect("MODE C", 504)
    c.expect("STRU F", 200)
    c.expect("STRU R", 504)
    c.expect("STRU P", 504)
    stat = c.expect("STAT", 211)
    assert "alice" in stat and "127.0.0.1" in stat, stat
    help_ = c.expect("HELP", 214)
    for verb in ("RETR", "STOR", "MLSD", "XSHA256", "EPSV"):
        assert verb in help_, help_
    c.expect("HELP RETR", 214)
    c.expect("HELP XYZZY", 502)
    site = c.expect("SITE HELP", 214)
    assert "QUOTA" in site, site
    c.expect("SITE QUOTA", 200)
    c.expect("SITE CHMOD 777 x", 504)
    c.expect("ALLO 1000", 202)
    c.expect("ALLO 1000 R 10", 202)
    c.expect("ALLO lots", 501)
    c.expect("ALLO -5", 501)
    c.expect("REST 0", 350)
    c.expect("REST -1", 501)
    c.expect("REST abc", 501)
    c.expect("REST 99999999999999999999999", 501)
    c.expect("ABOR", 225)               # nothing to abort
    c.expect("EPSV ALL", 200)
    c.expect("PASV", 503)               # after EPSV ALL only EPSV
    c.expect("PORT 127,0,0,1,200,10", 503)
    c.expect("EPSV", 229)
    c.expect("EPSV 2", 522)             # the control is IPv4
    c.expect("EPSV 3", 501)
    c.expect("QUIT", 221)
    c.close()


def t_fs_commands(d):
    c = Ctl(d)
    c.expect("MKD d1", 257)
    assert '"/d2"' in c.expect("XMKD d2", 257)
    c.expect("MKD d1", 550)             # exists
    c.expect("MKD /", 550)
    c.expect("MKD nosuch/sub", 550)
    c.expect("CWD d1", 250)
    assert '"/d1"' in c.expect("PWD", 257)
    c.expect("CDUP", 250)
    assert '"/"' in c.expect("PWD", 257)
    c.expect("XCWD /d2", 250)
    assert '"/d2"' in c.expect("XPWD", 257)
    c.expect("XCUP", 250)
    assert '"/"' in c.expect("PWD", 257)
    c.expect("CWD nosuch", 550)
    assert '"/"' in c.expect("PWD", 257)
    # a file to work on
    data, (code, text) = c.data("PASV", "STOR f.bin", b"0123456789" * 100)
    assert code == 226, text
    assert c.expect("CWD f.bin", 550) == "550 Not a directory."
    assert c.expect("CWD f.bin/x", 550) == "550 Not a directory."
    assert c.expect("CWD nosuch/x", 550) == \
        "550 No such file or directory."
    assert c.expect("SIZE f.bin", 213) == "213 1000"
    c.expect("SIZE d1", 550)            # a directory has no SIZE
    c.expect("SIZE nosuch", 550)
    mdtm = c.expect("MDTM f.bin", 213)
    assert len(mdtm.split()[1]) == 14, mdtm
    c.expect("MDTM nosuch", 550)
    c.expect("MFMT 20200102030405 f.bin", 213)
    assert c.expect("MDTM f.bin", 213) == "213 20200102030405"
    st = os.stat(os.path.join(d.home("alice"), "f.bin"))
    assert time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime)) == \
        "20200102030405"
    c.expect("MFMT 20201302030405 f.bin", 501)   # month 13
    c.expect("MFMT 20200230000000 f.bin", 501)   # Feb 30
    c.expect("MFMT 2020 f.bin", 501)
    c.expect("MFMT 20200102030405", 501)         # no path
    c.expect("MFMT 20200102030405 nosuch", 550)
    # rename
    c.expect("RNTO g.bin", 503)         # no RNFR first
    c.expect("RNFR nosuch", 550)
    c.expect("RNFR f.bin", 350)
    c.expect("RNTO d1/g.bin", 250)
    c.expect("SIZE d1/g.bin", 213)
    c.expect("SIZE f.bin", 550)
    c.expect("RNFR d1/g.bin", 350)
    c.expect("NOOP", 200)               # RNFR must be followed by RNTO
    c.expect("RNTO f.bin", 503)
    c.expect("RNFR d1/g.bin", 350)
    c.expect("RNTO /f.bin", 250)
    c.expect("RNFR d2", 350)            # directories rename too
    c.expect("RNTO d3", 250)
    c.expect("RNFR /", 550)
    # remove
    c.expect("RMD d1", 250)
    c.expect("RMD d1", 550)
    c.expect("DELE d3", 550)            # DELE is not for directories
    c.expect("MKD d3/x", 257)
    c.expect("RMD d3", 550)             # not empty
    c.expect("XRMD d3/x", 250)
    c.expect("XRMD d3", 250)
    c.expect("RMD /", 550)
    c.expect("RMD f.bin", 550)          # not a directory
    c.expect("DELE f.bin", 250)
    c.expect("DELE f.bin", 550)
    c.expect("DELE /", 550)
    assert sorted(os.listdir(d.home("alice"))) == [], \
        os.listdir(d.home("alice"))
    # control bytes in a path are refused
    c.expect("MKD a\x01b", 553)
    c.expect("QUIT", 221)
    c.close()


def t_data_commands(d, how):
    """The transfer and listing commands over one kind of data connection."""
    c = Ctl(d)
    body = bytes(range(256)) * 64 + b"line one\nline two\n"
    # a transfer command without PASV/PORT first
    c.expect("LIST", 425)
    c.expect("STOR a.bin", 425)
    c.expect("TYPE I", 200)
    _, (code, text) = c.data(how, "STOR a.bin", body)
    assert code == 226, text
    with open(os.path.join(d.home("alice"), "a.bin"), "rb") as f:
        assert f.read() == body
    got, (code, text) = c.data(how, "RETR a.bin")
    assert code == 226 and got == body, (text, len(got))
    # ASCII: LF -> CRLF out, CRLF -> LF in
    c.expect("TYPE A", 200)
    _, (code, text) = c.data(how, "STOR t.txt", b"one\r\ntwo\r\n")
    assert code == 226, text
    with open(os.path.join(d.home("alice"), "t.txt"), "rb") as f:
        assert f.read() == b"one\ntwo\n"
    got, (code, text) = c.data(how, "RETR t.txt")
    assert code == 226 and got == b"one\r\ntwo\r\n", (text, got)
    c.expect("TYPE I", 200)
    # APPE, REST+RETR, REST+STOR
    _, (code, text) = c.data(how, "APPE t.txt", b"three\n")
    assert code == 226, text
    got, (code, text) = c.data(how, "RETR t.txt")
    assert got == b"one\ntwo\nthree\n", got
    _, (code, text) = c.data(how, "APPE new.txt", b"fresh\n")
    assert code == 226, text
    c.expect("REST 4", 350)
    got, (code, text) = c.data(how, "RETR t.txt")
    assert code == 226 and got == b"two\nthree\n", (text, got)
    c.expect("REST 4", 350)
    _, (code, text) = c.data(how, "STOR t.txt", b"TWO\n")
    assert code == 226, text
    got, _ = c.data(how, "RETR t.txt")
    assert got == b"one\nTWO\n", got
    c.expect("REST 1000", 350)
    _, (code, text) = c.data(how, "RETR t.txt")
    assert code == 554, text            # past the end
    c.expect("REST 1000", 350)
    _, (code, text) = c.data(how, "STOR t.txt", b"x")
    assert code == 554, text
    with open(os.path.join(d.home("alice"), "t.txt"), "rb") as f:
        assert f.read() == b"one\nTWO\n"      # the refusal changed nothing
    # STOU
    _, (code, text) = c.data(how, "STOU", b"unique\n")
    assert code == 226, text
    names = [n for n in os.listdir(d.home("alice")) if n.startswith("moat.")]
    assert len(names) == 1 and names[0] in text, (names, text)
    # errors open no data connection
    _, (code, text) = c.data(how, "RETR nosuch")
    assert code == 550, text
    c.expect("MKD dir", 257)
    _, (code, text) = c.data(how, "RETR dir")
    assert code == 550, text
    _, (code, text) = c.data(how, "STOR dir", b"x")
    assert code == 550, text
    assert os.path.isdir(os.path.join(d.home("alice"), "dir"))
    # listings
    got, (code, text) = c.data(how, "LIST")
    assert code == 226, text
    lines = got.decode().splitlines()
    assert any(ln.startswith("-") and ln.endswith(" a.bin") for ln in lines)
    assert any(ln.startswith("d") and ln.endswith(" dir") for ln in lines)
    got, (code, _) = c.data(how, "LIST -la")
    assert b"a.bin" in got, got
    got, (code, _) = c.data(how, "LIST a.bin")
    assert code == 226 and got.decode().rstrip().endswith("a.bin"), got
    got, (code, text) = c.data(how, "NLST")
    assert code == 226, text
    assert sorted(got.decode().split()) == sorted(
        ["a.bin", "t.txt", "new.txt", "dir", names[0]]), got
    got, (code, _) = c.data(how, "NLST dir")
    assert code == 226 and got == b"", got
    got, (code, text) = c.data(how, "MLSD")
    assert code == 226, text
    facts = {}
    for ln in got.decode().splitlines():
        fs, name = ln.split(" ", 1)
        facts[name] = dict(kv.split("=", 1) for kv in fs.rstrip(";").split(";"))
    assert facts["a.bin"]["type"].lower() == "file", facts
    assert facts["a.bin"]["size"] == str(len(body)), facts
    assert facts["dir"]["type"].lower() == "dir", facts
    _, (code, text) = c.data(how, "MLSD a.bin")
    assert code == 501 or code == 550, text     # MLSD is for directories
    _, (code, text) = c.data(how, "MLSD nosuch")
    assert code == 550, text
    _, (code, text) = c.data(how, "LIST nosuch")
    assert code in (450, 550), text
    mlst = c.expect("MLST a.bin", 250)
    assert "size=%d;" % len(body) in mlst.lower(), mlst
    assert "type=dir" in c.expect("MLST", 250).lower()
    c.expect("MLST nosuch", 550)
    # digests
    want = {"XMD5": hashlib.md5(body).hexdigest(),
            "XSHA1": hashlib.sha1(body).hexdigest(),
            "XSHA256": hashlib.sha256(body).hexdigest()}
    for verb, hexd in want.items():
        assert c.expect(verb + " a.bin", 250) == "250 " + hexd, verb
        c.expect(verb + " nosuch", 550)
        c.expect(verb + " dir", 550)
    h = c.expect("HASH a.bin", 213)
    assert h == "213 SHA-256 0-%d %s a.bin" % (
        len(body), hashlib.sha256(body).hexdigest()), h
    c.expect("OPTS HASH MD5", 200)
    h = c.expect("HASH a.bin", 213)
    assert h == "213 MD5 0-%d %s a.bin" % (
        len(body), hashlib.md5(body).hexdigest()), h
    c.expect("HASH nosuch", 550)
    c.expect("QUIT", 221)
    c.close()


def t_ftplib_active(d):
    """ftplib in active mode (PORT) and passive mode: the everyday calls."""
    for pasv in (False, True):
        f = d.ftp()
        f.set_pasv(pasv)
        f.storbinary("STOR p.bin", io.BytesIO(b"x" * 100000))
        buf = io.BytesIO()
        f.retrbinary("RETR p.bin", buf.write)
        assert buf.getvalue() == b"x" * 100000
        assert f.nlst() == ["p.bin"], f.nlst()
        lines = []
        f.retrlines("LIST", lines.append)
        assert len(lines) == 1 and lines[0].endswith("p.bin"), lines
        assert [n for n, _ in f.mlsd()] == ["p.bin"]
        assert f.size("p.bin") == 100000
        f.delete("p.bin")
        f.quit()


def t_eprt_epsv_args(d):
    c = Ctl(d)
    for bad in ("PORT 127,0,0,1,300,1", "PORT 127,0,0,1,1", "PORT x",
                "PORT 127,0,0,1,4,1,9", "PORT 127,0,0,1,4,1 ",
                "PORT 256,0,0,1,4,1"):
        c.expect(bad, 501)
    for bad in ("EPRT |1|127.0.0.1|", "EPRT |1|127.0.0.1|0|",
                "EPRT |1|127.0.0.1|70000|", "EPRT |1|nonsense|2000|",
                "EPRT |1|127.0.0.1|2000|x", "EPRT x", "EPRT |2|127.0.0.1|2000|"):
        c.expect(bad, 501)
    c.expect("EPRT |3|127.0.0.1|2000|", 522)
    # no bounce: only the client's own address, only ports >= 1024
    for bad in ("PORT 127,0,0,2,8,1", "PORT 10,0,0,1,8,1",
                "PORT 127,0,0,1,0,21", "PORT 127,0,0,1,3,255",
                "EPRT |1|127.0.0.2|2049|", "EPRT |1|10.0.0.1|2049|",
                "EPRT |1|127.0.0.1|22|", "EPRT |1|127.0.0.1|1023|",
                "EPRT |2|::1|2049|"):
        c.expect(bad, 504)
    c.expect("PORT 127,0,0,1,4,0", 200)       # port 1024 is fine
    c.expect("EPRT |1|127.0.0.1|1024|", 200)
    # the refusals are logged
    c.expect("QUIT", 221)
    c.close()
    assert "refused PORT/EPRT to 127.0.0.2" in d.read_log()


def t_pasv_stranger(d):
    """A connection from 127.0.0.2 to the PASV port is turned away; the
    real client still gets its data."""
    c = Ctl(d)
    _, (code, _) = c.data("PASV", "STOR s.txt", b"secret data\n")
    assert code == 226
    for how in ("PASV", "EPSV"):
        host, port = c.pasv() if how == "PASV" else c.epsv()
        stranger = socket.socket()
        stranger.bind(("127.0.0.2", 0))
        stranger.settimeout(10)
        stranger.connect((host, port))
        time.sleep(0.1)
        real = socket.create_connection((host, port), 10)
        c.send("RETR s.txt")
        code, text = c.resp()
        assert code == 150, text
        got = b""
        while True:
            b = real.recv(4096)
            if not b:
                break
            got += b
        real.close()
        code, text = c.resp()
        assert code == 226 and got == b"secret data\n", (text, got)
        try:
            leaked = stranger.recv(4096)
        except OSError:
            leaked = b""
        stranger.close()
        assert leaked == b"", leaked
    c.expect("QUIT", 221)
    c.close()
    assert "refused a data connection from 127.0.0.2" in d.read_log()


def t_pasv_timeout(d):
    """Nobody connects to the PASV port: 425 after data_timeout (2 s)."""
    c = Ctl(d)
    c.pasv()
    t0 = time.time()
    c.send("LIST")
    code, text = c.resp()
    assert code == 150, text
    code, text = c.resp()
    took = time.time() - t0
    assert code == 425, text
    assert 1.5 <= took <= 6, took
    c.expect("NOOP", 200)               # the session goes on
    c.close()


def t_utf8(d):
    f = d.ftp()
    f.sendcmd("OPTS UTF8 ON")
    body = "你好，世界\n".encode("utf-8")
    f.mkd("目录")
    f.cwd("目录")
    f.storbinary("STOR 文件.txt", io.BytesIO(body))
    assert f.pwd() == "/目录"
    assert os.path.isfile(os.path.join(d.home("alice"), "目录", "文件.txt"))
    assert f.nlst() == ["文件.txt"], f.nlst()
    lines = []
    f.retrlines("LIST", lines.append)
    assert lines[0].endswith(" 文件.txt"), lines
    assert [n for n, _ in f.mlsd()] == ["文件.txt"]
    buf = io.BytesIO()
    f.retrbinary("RETR 文件.txt", buf.write)
    assert buf.getvalue() == body
    assert f.size("文件.txt") == len(body)
    assert f.sendcmd("XSHA256 文件.txt") == "250 " + \
        hashlib.sha256(body).hexdigest()
    f.rename("文件.txt", "新文件.txt")
    assert f.nlst() == ["新文件.txt"], f.nlst()
    f.cwd("/")
    assert [n for n, _ in f.mlsd()] == ["目录"]
    f.rename("目录", "新目录")
    f.delete("新目录/新文件.txt")
    f.rmd("新目录")
    assert os.listdir(d.home("alice")) == []
    f.quit()


def t_mlst_opts(d):
    """OPTS MLST selects the facts (RFC 3659 7.9): the reply names those
    now on, FEAT marks them, MLST and MLSD give those alone."""
    with open(os.path.join(d.home("alice"), "m.txt"), "wb") as f:
        f.write(b"12345")
    st = os.stat(d.home("alice"))
    os.chown(os.path.join(d.home("alice"), "m.txt"), st.st_uid, st.st_gid)
    f = d.ftp()
    assert f.sendcmd("OPTS MLST Size;type;frob;") == \
        "200 MLST OPTS type;size;"
    feat = f.sendcmd("FEAT")
    assert "\n MLST type*;size*;modify;perm;unique;\n" in feat, feat
    assert f.sendcmd("MLST m.txt").split("\n")[1] == \
        " type=file;size=5; /m.txt"
    assert list(f.mlsd()) == [("m.txt", {"type": "file", "size": "5"})]
    # python's mlsd(facts=...) sends OPTS MLST itself
    got = list(f.mlsd(facts=["modify"]))
    assert len(got) == 1 and list(got[0][1]) == ["modify"], got
    assert f.sendcmd("OPTS MLST") == "200 MLST OPTS"
    assert f.sendcmd("MLST m.txt").split("\n")[1] == "  /m.txt"
    assert f.sendcmd("OPTS MLST type;size;modify;perm;unique;") == \
        "200 MLST OPTS type;size;modify;perm;unique;"
    assert sorted(dict(f.mlsd())["m.txt"]) == ["modify", "perm", "size",
                                               "type", "unique"]
    f.quit()


def t_list_glob(d):
    """LIST and NLST of a wildcard pattern in the last component (what
    mget and ftplib's nlst("*.txt") send) list the matching entries; a
    leading dot is matched only by a dot; a name that exists is listed as
    itself even with a '*' in it; no match is 550; MLSD takes no pattern.
    (They were all 550 No such file.)"""
    f = d.ftp()
    for name in ("a.txt", "b.txt", "c.bin", ".h.txt", "x*y", "sub/d1.txt",
                 "sub/d2.txt", "sub/e.bin"):
        if "/" in name:
            try:
                f.mkd("sub")
            except ftplib.error_perm:
                pass
        f.storbinary("STOR " + name, io.BytesIO(name.encode()))
    assert sorted(f.nlst("*.txt")) == ["a.txt", "b.txt"]
    assert sorted(f.nlst(".*.txt")) == [".h.txt"]
    assert sorted(f.nlst("?.*")) == ["a.txt", "b.txt", "c.bin"]
    assert sorted(f.nlst("sub/d[0-9].txt")) == ["d1.txt", "d2.txt"]
    assert f.nlst("x*y") == ["x*y"]          # the literal name
    lines = []
    f.retrlines("LIST -l *.bin", lines.append)
    assert len(lines) == 1 and lines[0].startswith("-") and \
        lines[0].endswith(" c.bin"), lines
    for cmd in ("NLST *.zip", "LIST nope/*.txt"):
        try:
            f.retrlines(cmd, lines.append)
            assert False, cmd
        except ftplib.error_perm as e:
            assert str(e).startswith("550"), (cmd, e)
    try:
        list(f.mlsd("*.txt"))
        assert False, "MLSD took a pattern"
    except ftplib.error_perm as e:
        assert str(e).startswith("550"), e
    f.quit()


def t_malformed(d):
    # a 10 KiB line before login, and after
    for login in (False, True):
        c = Ctl(d, login=login)
        c.send(b"NOOP " + b"A" * 10240 + b"\r\n")
        code, text = c.resp()
        assert code == 500, text
        c.expect("NOOP", 200)
        c.send(b"X" * 10240 + b"\r\nNOOP\r\n")
        assert c.resp()[0] == 500
        assert c.resp()[0] == 200
        c.close()
    c = Ctl(d)
    # Telnet: IP and DM before a command, WILL/DO negotiation inside one,
    # an escaped 255 in a name
    c.send(b"\xff\xf4\xff\xf2NOOP\r\n")
    assert c.resp()[0] == 200
    c.send(b"NO\xff\xfb\x01OP\r\n")
    assert c.resp()[0] == 200
    c.send(b"\xff\xfd\x03PWD\xff\xf1\r\n")
    code, text = c.resp()
    assert code == 257 and '"/"' in text, text
    c.send(b"\xff")                      # a lone IAC then a command
    c.send(b"\xf1SYST\r\n")
    assert c.resp()[0] == 215
    # pipelined: several commands in one send, answered in order
    c.send(b"NOOP\r\nPWD\r\nSYST\r\nMKD p\r\nCWD p\r\nPWD\r\nXYZZY\r\n")
    codes = [c.resp() for _ in range(7)]
    assert [x[0] for x in codes] == [200, 257, 215, 257, 250, 257, 502], \
        codes
    assert '"/p"' in codes[5][1], codes
    # bare LF ends a line too; an empty line is not a command
    c.send(b"NOOP\n")
    assert c.resp()[0] == 200
    c.send(b"\r\n")
    assert c.resp()[0] in (500, 502)
    c.expect("NOOP", 200)
    c.close()


# -- real clients --------------------------------------------------------------

def t_curl(d):
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(300000))
        d.curl("-T", src, d.url("/up.bin"))
        d.curl("--ftp-create-dirs", "-T", src, d.url("/sub/dir/up2.bin"))
        assert os.path.isfile(os.path.join(d.home("alice"), "sub", "dir",
                                           "up2.bin"))
        d.curl("-Q", "MKD made", d.url("/"))
        assert os.path.isdir(os.path.join(d.home("alice"), "made"))
        p = d.curl(d.url("/"))
        listing = p.stdout.decode()
        assert "up.bin" in listing and "made" in listing, listing
        p = d.curl("-l", d.url("/"))
        assert sorted(p.stdout.decode().split()) == ["made", "sub", "up.bin"]
        dst = os.path.join(tmp, "down.bin")
        d.curl("-o", dst, d.url("/up.bin"))
        with open(src, "rb") as a, open(dst, "rb") as b:
            assert a.read() == b.read()
        d.curl("--ftp-port", "127.0.0.1", "-o", dst, d.url("/up.bin"))
        with open(src, "rb") as a, open(dst, "rb") as b:
            assert a.read() == b.read()
        d.curl("-Q", "RNFR up.bin", "-Q", "RNTO made/moved.bin", d.url("/"))
        assert os.path.isfile(os.path.join(d.home("alice"), "made",
                                           "moved.bin"))
        d.curl("-Q", "DELE made/moved.bin", "-Q", "RMD made", d.url("/"))
        assert not os.path.exists(os.path.join(d.home("alice"), "made"))
        p = d.curl(d.url("/nosuch.bin"), check=False)
        assert p.returncode != 0
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def t_lftp(d):
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(200000))
        script = ("set ftp:ssl-allow no; set net:max-retries 1; "
                  "set net:timeout 10; set cmd:fail-exit yes; "
                  "put %s -o up.bin; mkdir dir; ls; "
                  "get up.bin -o %s/down.bin; mv up.bin dir/moved.bin; "
                  "cls -1 dir; rm dir/moved.bin; rmdir dir; cls -1; bye") % (
                      src, tmp)
        p = subprocess.run(
            ["lftp", "-u", "alice,%s" % d.passwords["alice"],
             "-p", str(d.port), "-e", script, "127.0.0.1"],
            capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
            env=dict(os.environ, HOME=tmp))
        out = p.stdout.decode()
        assert p.returncode == 0, (p.returncode, out, p.stderr)
        assert "up.bin" in out and "dir" in out, out
        assert "moved.bin" in out, out
        with open(src, "rb") as a, open(os.path.join(tmp, "down.bin"),
                                         "rb") as b:
            assert a.read() == b.read()
        assert os.listdir(d.home("alice")) == []
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def one_daemon(root):
    """Most tests share one daemon per mode, each with a fresh home."""
    d = Daemon(root=root).start()
    try:
        for fn, args in ((t_login, ()), (t_simple_commands, ()),
                         (t_fs_commands, ()),
                         (t_data_commands, ("PASV",)),
                         (t_data_commands, ("EPSV",)),
                         (t_data_commands, ("PORT",)),
                         (t_data_commands, ("EPRT",)),
                         (t_ftplib_active, ()), (t_eprt_epsv_args, ()),
                         (t_pasv_stranger, ()), (t_utf8, ()), (t_mlst_opts, ()),
                         (t_list_glob, ()),
                         (t_malformed, ()), (t_curl, ()), (t_lftp, ())):
            clean_home(d)

            def case(fn=fn, args=args):
                fn(d, *args)
            case.__name__ = "%s%s[%s]" % (fn.__name__[2:], "".join(
                "(%s)" % a for a in args), "root" if root else "user")
            r.run(case)
    finally:
        d.stop()


def clean_home(d):
    import shutil
    h = d.home("alice")
    for n in os.listdir(h):
        p = os.path.join(h, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


r = Runner("commands")
for root in MODES:
    one_daemon(root)

    def pasv_timeout(root=root):
        with_daemon(t_pasv_timeout, root, extra={"data_timeout": "2"})
    pasv_timeout.__name__ = "pasv_timeout[%s]" % ("root" if root else "user")
    r.run(pasv_timeout)
r.done()
