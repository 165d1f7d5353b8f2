"""dns_transport: with tcp every query reaches the server over TCP, many
on one connection that stays open; with udp (the default) nothing uses
TCP while the answers fit a datagram.  The server here answers over TCP
only: it relays each query it reads to the shared NSD (tests/data/dns/)
over UDP and writes the answer back on the same connection, so the
answers are the real server's.  Everything stays on 127.0.0.1."""

import socket
import struct
import threading

import dnsserver
from harness import DaemonTest, attrs_list

NSD = None


def setUpModule():
    global NSD
    NSD = dnsserver.shared_nsd()


class TcpOnlyRelay:
    """A DNS server on TCP alone (no UDP socket on its port): reads
    length-prefixed queries, several per connection, one after another,
    and answers each with NSD's answer.  Counts connections and queries."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.connections = 0
        self.queries = []
        self.stopping = False
        self.lock = threading.Lock()

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", dnsserver.free_port()))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return self

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read(self, conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _serve(self, conn):
        conn.settimeout(5)
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(2)
        try:
            while not self.stopping:
                hdr = self._read(conn, 2)
                if hdr is None:
                    return
                query = self._read(conn, struct.unpack(">H", hdr)[0])
                if query is None:
                    return
                name, off = dnsserver.decode_name(query, 12)
                with self.lock:
                    self.queries.append((name.lower(), struct.unpack(">H",
                                                                     query[off:off + 2])[0]))
                up.sendto(query, ("127.0.0.1", self.upstream))
                answer = up.recv(65535)
                conn.sendall(struct.pack(">H", len(answer)) + answer)
        except OSError:
            pass
        finally:
            up.close()
            conn.close()

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(1)


BLOCKED = "action=554 5.7.1 Service unavailable; Client host [%s] blocked using dnsbl.test%s"


def req(addr):
    return {"client_address": addr, "client_name": "unknown",
            "reverse_client_name": "unknown", "helo_name": "mail.good.test",
            "sender": "alice@good.test", "recipient": "bob@our.example"}


class DnsTransport(DaemonTest):

    def relay(self):
        r = TcpOnlyRelay(NSD.port).start()
        self.addCleanup(r.stop)
        return r

    def test_tcp_carries_every_query_on_one_connection(self):
        r = self.relay()
        d = self.daemon("dns_resolver = %s\ndns_transport = tcp\n"
                        "client_restrictions = reject_rbl_client dnsbl.test\n" % r.addr)
        self.assertAnswers(d, [
            (req("192.0.2.99"), BLOCKED % ("192.0.2.99", "; Listed: see "
                                            "https://dnsbl.test/query?ip=192.0.2.99")),
            (req("192.0.2.10"), "action=DUNNO"),
            (req("192.0.2.95"), BLOCKED % ("192.0.2.95", "")),
            (req("192.0.2.11"), "action=DUNNO"),
            # answered from the cache: no new query
            (req("192.0.2.99"), BLOCKED % ("192.0.2.99", "; Listed: see "
                                            "https://dnsbl.test/query?ip=192.0.2.99")),
        ])
        want = [("99.2.0.192.dnsbl.test", dnsserver.T_A),
                ("99.2.0.192.dnsbl.test", dnsserver.T_TXT),
                ("10.2.0.192.dnsbl.test", dnsserver.T_A),
                ("95.2.0.192.dnsbl.test", dnsserver.T_A),
                ("95.2.0.192.dnsbl.test", dnsserver.T_TXT),
                ("11.2.0.192.dnsbl.test", dnsserver.T_A)]
        self.assertEqual(sorted(r.queries), sorted(want))
        # one connection, kept open, carried all six
        self.assertEqual(r.connections, 1)

    def test_check_command_uses_the_transport_too(self):
        """mxshield check decides as the daemon would, over the same transport."""
        r = self.relay()
        tmp = self.tmpdir()
        conf = tmp + "/mxshield.conf"
        with open(conf, "w") as f:
            f.write("dns_resolver = %s\ndns_transport = tcp\ndata_directory = %s\n"
                    "client_restrictions = reject_rbl_client dnsbl.test\n" % (r.addr, tmp))
        args = ["%s=%s" % kv for kv in attrs_list(req("192.0.2.95"))]
        rc, out, err = self.run_cli("check", "-c", conf, *args)
        self.assertEqual((rc, out.rstrip("\n").split("\n")[-1]), (0, BLOCKED % ("192.0.2.95", "")),
                         out + err)
        self.assertEqual((r.connections, sorted(r.queries)),
                         (1, [("95.2.0.192.dnsbl.test", dnsserver.T_A),
                              ("95.2.0.192.dnsbl.test", dnsserver.T_TXT)]))

    def test_udp_is_the_default_and_sends_nothing_over_tcp(self):
        r = self.relay()
        d = self.daemon("dns_resolver = %s\ndns_timeout = 2s\n"
                        "client_restrictions = reject_rbl_client dnsbl.test\n" % r.addr)
        c = self.client(d)
        got = c.ask(req("192.0.2.99"))
        # no UDP server on that port: the list cannot be queried
        self.assertFalse(got.startswith("action=554"), got)
        self.assertEqual((r.connections, r.queries), (0, []))

    def test_servfail_over_tcp_is_a_temporary_failure(self):
        """A SERVFAIL stays temporary over TCP too: libunbound then hands
        over the query as sent, which must not be read as "no data"."""
        resp = dnsserver.Responder({"servfail.test": "servfail"}).start()
        self.addCleanup(resp.stop)
        for transport in ("tcp", "udp"):
            d = self.daemon("dns_resolver = %s\ndns_transport = %s\n"
                            "recipient_restrictions = check_spf\nspf_helo_reject = no_check\n"
                            % (resp.addr, transport))
            c = self.client(d)
            got = c.ask(dict(req("192.0.2.9"), sender="u@servfail.test"))
            self.assertEqual(got, "action=451 4.7.24 SPF temporary error: DNS lookup of "
                             "servfail.test failed: resolver: SERVFAIL", transport)

    def test_bad_value_stops_the_start(self):
        with self.assertRaises(RuntimeError) as cm:
            self.daemon("dns_resolver = %s\ndns_transport = quic\n" % NSD.addr)
        self.assertIn('dns_transport: "quic" is neither udp nor tcp', str(cm.exception))


if __name__ == "__main__":
    import unittest
    unittest.main()
