"""A raw FTP control connection for the foundation tests: send any bytes,
read replies exactly as the server wrote them, open data connections by
hand (PASV, EPSV, PORT, EPRT). Standard library only."""
import socket
import time


class Ctl:
    """One control connection. cmd() sends a line and returns (code, text)
    where text holds every line of a multi-line reply."""

    def __init__(self, d, user="alice", login=True, source=None, timeout=15):
        self.d = d
        self.s = socket.create_connection(
            ("127.0.0.1", d.port), timeout,
            source_address=(source, 0) if source else None)
        self.f = self.s.makefile("rb")
        code, text = self.resp()
        assert code == 220, (code, text)
        if login:
            self.login(user, d.passwords[user])

    def login(self, user, password):
        code, text = self.cmd("USER " + user)
        assert code == 331, (code, text)
        code, text = self.cmd("PASS " + password)
        assert code == 230, (code, text)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8") + b"\r\n"
        self.s.sendall(data)

    def line(self):
        ln = self.f.readline(65536)
        if not ln:
            raise EOFError("control connection closed")
        return ln.decode("utf-8", "replace").rstrip("\r\n")

    def resp(self):
        first = self.line()
        lines = [first]
        if len(first) > 3 and first[3] == "-":
            end = first[:3] + " "
            while True:
                ln = self.line()
                lines.append(ln)
                if ln.startswith(end):
                    break
        return int(first[:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line)
        return self.resp()

    def expect(self, line, code):
        got, text = self.cmd(line)
        assert got == code, "%r: expected %d, got %r" % (line, code, text)
        return text

    # -- data connections ------------------------------------------------
    def pasv(self):
        text = self.expect("PASV", 227)
        nums = text[text.index("(") + 1:text.index(")")].split(",")
        host = ".".join(nums[:4])
        assert host == "127.0.0.1", text
        return host, int(nums[4]) * 256 + int(nums[5])

    def epsv(self):
        text = self.expect("EPSV", 229)
        return "127.0.0.1", int(text.split("|||")[1].split("|")[0])

    def _listen(self):
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        ls.settimeout(15)
        return ls

    def data(self, how, verb, payload=None):
        """Run one transfer command over a data connection opened with how
        (PASV, EPSV, PORT or EPRT). Returns (bytes received, final reply)."""
        ls = None
        if how == "PASV":
            addr = self.pasv()
        elif how == "EPSV":
            addr = self.epsv()
        elif how == "PORT":
            ls = self._listen()
            p = ls.getsockname()[1]
            self.expect("PORT 127,0,0,1,%d,%d" % (p >> 8, p & 255), 200)
        elif how == "EPRT":
            ls = self._listen()
            self.expect("EPRT |1|127.0.0.1|%d|" % ls.getsockname()[1], 200)
        else:
            raise ValueError(how)
        if ls is None:
            conn = socket.create_connection(addr, 15)
        self.send(verb)
        code, text = self.resp()
        if code not in (125, 150):
            if ls is not None:
                ls.close()
            else:
                conn.close()
            return None, (code, text)
        if ls is not None:
            conn, _ = ls.accept()
            ls.close()
        conn.settimeout(15)
        got = bytearray()
        try:
            if payload is not None:
                conn.sendall(payload)
            else:
                while True:
                    b = conn.recv(1 << 16)
                    if not b:
                        break
                    got += b
        finally:
            conn.close()
        return bytes(got), self.resp()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def wait_for(pred, timeout=5.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
