"""A milter client that speaks as Postfix 3.x does (src/milter/milter8.c):
OPTNEG with Postfix's offer, macros before each event, replies read only
for the steps that were not negotiated away."""

import socket
import struct

SMFIF_ALL = 0x1FF                   # Postfix's my_actions
SMFIP_ALL = 0x1FFFFF                # every step and option Postfix offers
NR = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "T": 0x10000,
      "U": 0x20000, "N": 0x40000, "B": 0x80000, "L": 0x80}
NO = {"C": 0x1, "H": 0x2, "M": 0x4, "R": 0x8, "B": 0x10, "L": 0x20, "N": 0x40,
      "U": 0x100, "T": 0x200}


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd.encode() + data


def z(*strings):
    return b"".join((s.encode() if isinstance(s, str) else s) + b"\0" for s in strings)


class Milter:
    def __init__(self, addr, timeout=5.0):
        if isinstance(addr, str):           # a unix socket's path
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(timeout)
            self.s.connect(addr)
        else:
            self.s = socket.create_connection(addr, timeout=timeout)
        self.buf = b""
        self.proto = 0
        self.actions = 0

    def close(self):
        self.s.close()

    def read_packet(self):
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">I", self.buf[:4])[0]:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("milter closed the connection")
            self.buf += d
        n = struct.unpack(">I", self.buf[:4])[0]
        p, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return chr(p[0]), p[1:]

    def negotiate(self, version=6, actions=SMFIF_ALL, proto=SMFIP_ALL):
        self.s.sendall(packet("O", struct.pack(">III", version, actions, proto)))
        cmd, data = self.read_packet()
        assert cmd == "O", cmd
        self.version, self.actions, self.proto = struct.unpack(">III", data[:12])
        self.symlist = data[12:]
        return self.version, self.actions, self.proto

    def event(self, cmd, data=b"", macros=None):
        """Send macros and an event in one write, as Postfix does; the
        replies (a list of (cmd, data)) unless the step has no reply."""
        out = b""
        if macros is not None:
            out += packet("D", cmd.encode() + z(*[x for kv in macros.items() for x in kv]))
        if cmd in NO and self.proto & NO[cmd]:
            if out:
                self.s.sendall(out)
            return None
        out += packet(cmd, data)
        self.s.sendall(out)
        if cmd in NR and self.proto & NR[cmd]:
            return None
        if cmd in ("A", "Q", "K"):
            return None
        replies = []
        while True:
            c, d = self.read_packet()
            replies.append((c, d))
            if c in "acdrtys" or (c == "f"):
                return replies

    def connect(self, ip="192.0.2.5", name="client.test"):
        return self.event("C", z(name) + b"4" + struct.pack(">H", 25) + z(ip),
                          {"j": "mx.test", "{daemon_name}": "smtpd"})

    def message(self, sender, headers, body, helo="client.test", macros=None, chunk=65535):
        """One message from HELO to EOM: the end-of-message replies."""
        self.event("H", z(helo))
        r = self.event("M", z("<%s>" % sender), macros or {"i": "ABC123"})
        if r and r[-1][0] == "a":
            return r
        for name, value in headers:
            self.event("L", z(name, value), {"i": "ABC123"})
        self.event("N", b"", {"i": "ABC123"})
        skipped = False
        for i in range(0, len(body), chunk):
            if skipped:
                break
            r = self.event("B", body[i:i + chunk], {"i": "ABC123"})
            skipped = bool(r and r[-1][0] == "s")
        return self.event("E", b"", {"i": "ABC123"})


def split_message(raw):
    """An RFC 5322 message (bytes) into [(name, value)] as Postfix sends
    them with HDR_LEADSPC (value after the colon, folds joined by LF) and
    the body with CRLF line ends."""
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += b"\n" + line
        else:
            name, _, value = line.partition(b":")
            headers.append([name, value])
    return ([(n.decode(), v) for n, v in headers], body.replace(b"\n", b"\r\n"))
