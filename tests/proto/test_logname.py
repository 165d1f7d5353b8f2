"""Each service's log lines carry its own name, as Postfix's programs log
as postfix/smtpd and postfix/cleanup: the policy service's decisions as
mxshield/policy, the milter's as mxshield/milter, in one process serving
both.  The milter's lines come from every way the loop reaches it: the
accept, its socket's input and end, and the DNS answers its checks waited
for."""

import re

import miltertalk as mt
from dnsserver import shared_nsd
from harness import DaemonTest, free_port

MESSAGE = (b"From: A <a@reject.dmarc.test>\r\nTo: b@our.example\r\nSubject: test\r\n"
           b"Date: Sat, 05 Dec 2026 06:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nHello\r\n")


class LogName(DaemonTest):

    def setUp(self):
        self.nsd = shared_nsd()
        self.mport = free_port()
        self.d = self.daemon("milter_listen = inet:127.0.0.1:%d\n"
                             "dns_resolver = %s\ncontrol_socket =\n"
                             "recipient_restrictions = reject_unauth_destination\n"
                             % (self.mport, self.nsd.addr))

    def line(self, *needles):
        """The whole log line holding every needle (waited for)."""
        line = self.d.wait_log(*needles)
        self.assertIsNotNone(line, self.d.read_log()[-2000:])
        return line

    def milter_message(self, ip="198.51.100.7"):
        m = mt.Milter(("127.0.0.1", self.mport))
        self.addCleanup(m.close)
        m.negotiate()
        m.connect(ip)
        h, b = mt.split_message(MESSAGE)
        return m.message("x@nopolicy.dmarc.test", h, b)

    def test_policy_and_milter_lines_carry_their_own_names(self):
        # the milter's decision waits for DMARC's DNS answers: logged from
        # the lookup set's wakeup, not from the socket's input
        r = self.milter_message()
        self.assertEqual(r, [("y", b"550 5.7.1 Rejected by DMARC policy for reject.dmarc.test\0")])
        milter = self.line("milter client", "action=reject")
        self.assertRegex(milter, r"^mxshield/milter\[\d+\]: ABC123: milter client 127\.0\.0\.1:\d+: "
                                 r"from=<x@nopolicy\.dmarc\.test> action=reject: ")

        # a policy decision in the same process, after the milter's
        c = self.client(self.d)
        self.assertEqual(c.ask({"recipient": "bob@elsewhere.example"}),
                         "action=554 5.7.1 <bob@elsewhere.example>: Relay access denied")
        policy = self.line("Relay access denied", "NOQUEUE: reject:")
        self.assertRegex(policy, r"^mxshield/policy\[\d+\]: NOQUEUE: reject: RCPT from ")

        # the milter again, from its socket's end (the stream's callback)
        m = mt.Milter(("127.0.0.1", self.mport))
        m.negotiate()
        m.connect("198.51.100.8")
        m.event("H", mt.z("client.test"))
        m.event("M", mt.z("<x@nopolicy.dmarc.test>"), {"i": "ABC124"})
        m.event("L", mt.z("From", " a@reject.dmarc.test"), {"i": "ABC124"})
        m.close()
        gone = self.line("milter client", "disconnected in the middle of a message")
        self.assertRegex(gone, r"^mxshield/milter\[\d+\]: milter client ")

        # every line about a milter client is the milter's, every decision
        # about a policy client the policy service's (the loop's own stall
        # warning, which can name "milter client I/O" on a loaded host, is
        # the daemon's)
        log = self.d.read_log()
        for line in log.splitlines():
            if re.search(r"milter client \d", line):
                self.assertTrue(line.startswith("mxshield/milter["), line)
            if re.search(r": (reject|defer|permit|warn): RCPT from", line):
                self.assertTrue(line.startswith("mxshield/policy["), line)
        # the skeleton's own lines keep the process's name
        self.assertRegex(log, r"(?m)^mxshield/policy\[\d+\]: mxshield ready")
        self.assertRegex(log, r"(?m)^mxshield/milter\[\d+\]: milter: listening on ")
