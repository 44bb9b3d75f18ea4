"""A small scriptable FTP server for the client's tests: a server that
lacks a feature (REST, SIZE, a digest), lies (a wrong digest, a PWD full of
terminal escapes) or overwhelms (huge listings). Plain FTP on loopback,
standard library only. It runs in threads of the test process, so there is
no process to clean up: stop() closes it.

Subclass and override a cmd_VERB method, or pass options, to script it.
Every command line received is appended to .log.
"""
import hashlib
import socket
import threading
import time


class FakeFTP:
    password = "fake-password"
    cert = None

    def __init__(self, files=None, dirs=("",), feat=None, rest=True,
                 digest="md5", digest_delay=0, pwd="/", user="fake"):
        # files: {"dir/name": bytes}; dirs: directory paths ("" the root)
        self.files = dict(files or {})
        self.dirs = set(dirs)
        self.feat = feat if feat is not None else [
            "MLSD", "MLST type*;size*;modify*;", "SIZE", "EPSV",
            "REST STREAM", "UTF8", "XMD5"]
        self.rest_ok = rest          # False: REST gets 502
        self.digest = digest         # "md5", "wrong", or None (502)
        self.digest_delay = digest_delay
        self.pwd = pwd
        self.user = user
        self.log = []
        self.conns = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    # -- for Env ----------------------------------------------------------
    def target(self):
        return "%s@127.0.0.1:%d" % (self.user, self.port)

    def stop(self):
        self.running = False
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()

    def commands(self, verb):
        """The arguments of every command VERB received."""
        with self.lock:
            return [x.partition(" ")[2] for x in self.log
                    if x.partition(" ")[0].upper() == verb]

    # -- the server ---------------------------------------------------------
    def _accept(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._session, args=(c,),
                             daemon=True).start()

    def send(self, s):
        self.c.sendall(s.encode("utf-8", "surrogateescape") + b"\r\n")

    def _session(self, c):
        # one control connection at a time is all the client opens
        self.c, self.rest, self.pasv, self.cwd = c, 0, None, ""
        f = c.makefile("rb")
        try:
            self.send("220 fake ready")
            for raw in f:
                line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
                with self.lock:
                    self.log.append(line)
                verb, _, arg = line.partition(" ")
                fn = getattr(self, "cmd_" + verb.upper(), None)
                if fn is None:
                    self.send("502 Not implemented.")
                elif fn(arg) == "quit":
                    break
        except OSError:
            pass
        finally:
            c.close()

    def path(self, arg):
        """A client path as a key of files/dirs: no leading or double /."""
        p = arg if arg.startswith("/") else self.cwd + "/" + arg
        return "/".join(x for x in p.split("/") if x and x != ".")

    def data(self):
        """The data connection the last EPSV announced."""
        d, _ = self.pasv.accept()
        self.pasv.close()
        self.pasv = None
        return d

    def cmd_AUTH(self, arg):
        self.send("502 No TLS here.")

    def cmd_USER(self, arg):
        self.send("331 Password please.")

    def cmd_PASS(self, arg):
        self.send("230 Logged in.")

    def cmd_FEAT(self, arg):
        self.send("211-Features:")
        for x in self.feat:
            self.send(" " + x)
        self.send("211 End")

    def cmd_TYPE(self, arg):
        self.send("200 Binary.")

    def cmd_OPTS(self, arg):
        self.send("200 OK.")

    def cmd_NOOP(self, arg):
        self.send("200 NOOP ok.")

    def cmd_ABOR(self, arg):
        self.send("225 Aborted.")

    def cmd_QUIT(self, arg):
        self.send("221 Bye.")
        return "quit"

    def cmd_PWD(self, arg):
        self.send('257 "%s" is the current directory.' %
                  (self.pwd if self.cwd == "" else "/" + self.cwd))

    def is_dir(self, p):
        return p in self.dirs

    def cmd_CWD(self, arg):
        p = self.path(arg)
        if self.is_dir(p):
            self.cwd = p
            self.send("250 OK.")
        else:
            self.send("550 No such directory.")

    def cmd_EPSV(self, arg):
        self.pasv = socket.socket()
        self.pasv.settimeout(30)
        self.pasv.bind(("127.0.0.1", 0))
        self.pasv.listen(1)
        self.send("229 Entering Extended Passive Mode (|||%d|)" %
                  self.pasv.getsockname()[1])

    def cmd_REST(self, arg):
        if not self.rest_ok:
            self.send("502 REST not implemented.")
            return
        self.rest = int(arg)
        self.send("350 Restarting.")

    def cmd_SIZE(self, arg):
        p = self.path(arg)
        if "SIZE" not in self.feat:
            self.send("502 SIZE not implemented.")
        elif p in self.files:
            self.send("213 %d" % len(self.files[p]))
        else:
            self.send("550 Not a regular file.")

    def cmd_RETR(self, arg):
        p = self.path(arg)
        rest, self.rest = self.rest, 0
        if p not in self.files:
            self.send("550 No such file.")
            return
        self.send("150 Here it comes.")
        d = self.data()
        try:
            d.sendall(self.files[p][rest:])
        finally:
            d.close()
        self.send("226 Done.")

    def listing(self, path):
        """MLSD lines for a directory: bytes."""
        pre = path + "/" if path else ""
        out = []
        for name, body in sorted(self.files.items()):
            if name.startswith(pre) and "/" not in name[len(pre):]:
                out.append("type=file;size=%d; %s" % (len(body),
                                                     name[len(pre):]))
        for name in sorted(self.dirs):
            if name and name.startswith(pre) and \
                    "/" not in name[len(pre):]:
                out.append("type=dir; %s" % name[len(pre):])
        return "".join(x + "\r\n" for x in out).encode("utf-8",
                                                      "surrogateescape")

    def cmd_MLSD(self, arg):
        p = self.path(arg)
        if not self.is_dir(p):
            self.send("550 No such directory.")
            return
        self.send("150 Listing.")
        d = self.data()
        try:
            d.sendall(self.listing(p))
        except OSError:
            d.close()
            self.send("426 Listing cut.")
            return
        d.close()
        self.send("226 Done.")

    def _digest(self, arg):
        p = self.path(arg)
        if self.digest is None:
            self.send("502 No digests here.")
            return
        if self.digest_delay:
            time.sleep(self.digest_delay)
        if p not in self.files:
            self.send("550 No such file.")
            return
        h = hashlib.md5(self.files[p]).hexdigest()
        if self.digest == "wrong":
            h = hashlib.md5(b"not " + self.files[p]).hexdigest()
        self.send("250 %s" % h)

    def cmd_XMD5(self, arg):
        self._digest(arg)
