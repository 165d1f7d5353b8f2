"""`mxshield relay-test` against a private Postfix on loopback: closed (its
test configuration: reject_unauth_destination) every attempt is refused
and the exit status is 0; opened (permit_mynetworks with the tester's 127.0.0.1 in mynetworks: the
usual way a server becomes an open relay to some) the
accepted attempts are reported and the exit status is 1; no message is
ever queued (the test never sends DATA)."""

import os
import socket
import subprocess
import threading
import time

import dnsserver
from harness import DaemonTest, BINARY
from postfix import PrivatePostfix

ATTEMPTS = ["plain relay", "null sender", "sender in our domain", "percent hack",
            "percent hack, unqualified", "bang path", "bang path, unqualified",
            "quoted local part", "quoted local part, unqualified", "quoted percent hack",
            "source route", "source route, two hops", "address literal",
            "target with a trailing dot"]


def relay_test(*args):
    p = subprocess.run([BINARY, "relay-test", "--timeout", "5"] + list(args),
                       capture_output=True, text=True, timeout=25)
    return p.returncode, p.stdout, p.stderr


class RelayTest(DaemonTest):

    @classmethod
    def setUpClass(cls):
        cls.pf = PrivatePostfix(policy="inet:127.0.0.1:9").start()

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()

    def queued(self):
        out = subprocess.run(["postqueue", "-c", self.pf.etc, "-p"], capture_output=True,
                             text=True).stdout
        return "Mail queue is empty" not in out

    def postconf(self, *settings):
        subprocess.run(["postconf", "-c", self.pf.etc, "-e"] + list(settings), check=True)
        self.pf.postfix("reload")
        time.sleep(1.5)			# the smtpd processes of the old configuration go

    def test_closed_then_open(self):
        addr = "127.0.0.1:%d" % self.pf.port
        rc, out, err = relay_test(addr, "--domain", "our.test")
        self.assertEqual(rc, 0, out + err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "server 127.0.0.1:%d, our domain our.test, relay target"
                         " example.net" % self.pf.port)
        for name in ATTEMPTS:
            self.assertEqual(len([x for x in lines if x.startswith("refused %s: MAIL FROM:<"
                                                                  % name)]), 1, name)
        self.assertEqual(len(lines), len(ATTEMPTS) + 2)
        self.assertIn("refused percent hack: MAIL FROM:<postmaster@our.test>"
                      " RCPT TO:<victim%example.net@our.test>: 554 5.7.1", out)
        self.assertIn("Relay access denied", out)
        self.assertEqual(lines[-1], "not an open relay: every attempt refused")
        # the greeting's name less its first label is our domain by default
        rc, out, err = relay_test(addr)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("our domain our.test,", out)
        # opened: reported, exit 1
        self.postconf("smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
                      "smtpd_recipient_restrictions = permit_mynetworks,"
                      " reject_unauth_destination")
        try:
            rc, out, err = relay_test(addr, "--domain", "our.test")
        finally:
            self.postconf("smtpd_relay_restrictions = reject_unauth_destination",
                          "smtpd_recipient_restrictions = reject_unauth_destination")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("RELAYED plain relay: MAIL FROM:<relay-test@example.net>"
                      " RCPT TO:<victim@example.net>: 250 2.1.5 Ok", out)
        self.assertIn("RELAYED null sender: MAIL FROM:<> RCPT TO:<victim@example.net>", out)
        self.assertIn("RELAYED percent hack, unqualified:", out)
        self.assertIn("RELAYED bang path, unqualified:", out)
        self.assertIn("RELAYED address literal:", out)
        self.assertIn("RELAYED source route:", out)
        self.assertEqual(out.splitlines()[-1],
                         "OPEN RELAY: the server accepted recipients it must not")
        self.assertFalse(self.queued())
        self.assertNotIn("DATA", self.pf.log())

    def test_temporary_reply_is_inconclusive_and_usage(self):
        """A server answering 451 to every RCPT: inconclusive, exit 3."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        port = srv.getsockname()[1]
        stop = []
        rcpt = [b"451 4.3.0 try later"]

        def serve():
            while not stop:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                f = c.makefile("rwb")
                f.write(b"220 mx.tmp.test ESMTP\r\n")
                f.flush()
                for line in f:
                    cmd = line[:4].upper()
                    reply = {b"EHLO": b"250 mx.tmp.test\r\n", b"MAIL": b"250 2.1.0 Ok\r\n",
                             b"RCPT": rcpt[0] + b"\r\n", b"RSET": b"250 Ok\r\n",
                             b"QUIT": b"221 Bye\r\n"}.get(cmd, b"502 no\r\n")
                    f.write(reply)
                    f.flush()
                    if cmd == b"QUIT":
                        break
                c.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            rc, out, err = relay_test("127.0.0.1:%d" % port)
            # RELAY_MAX_LINE (2048 bytes) a reply line is read; one more is not
            rcpt[0] = b"250 " + b"x" * 2044
            rc2, out2, _ = relay_test("127.0.0.1:%d" % port)
            rcpt[0] = b"250 " + b"x" * 2045
            rc3, out3, _ = relay_test("127.0.0.1:%d" % port)
        finally:
            stop.append(1)
            srv.close()
        self.assertEqual(rc2, 1, out2)
        self.assertIn("RELAYED plain relay: ", out2)
        self.assertEqual(rc3, 3, out3)
        self.assertIn("inconclusive plain relay: MAIL FROM:<relay-test@example.net>"
                      " RCPT TO:<victim@example.net>: no reply (connection lost, or a line past 2048 bytes)", out3)
        self.assertEqual(rc, 3, out + err)
        self.assertIn("our domain tmp.test,", out)
        self.assertIn("inconclusive plain relay: MAIL FROM:<relay-test@example.net>"
                      " RCPT TO:<victim@example.net>: 451 4.3.0 try later", out)
        self.assertEqual(out.splitlines()[-1],
                         "no relay accepted, but some attempts were inconclusive")
        # nothing listening; a usage error
        rc, out, err = relay_test("127.0.0.1:%d" % dnsserver.free_port())
        self.assertEqual(rc, 2)
        self.assertIn("Connection refused", err)
        rc, out, err = relay_test()
        self.assertEqual(rc, 2)
        self.assertIn("usage: mxshield relay-test", err)
