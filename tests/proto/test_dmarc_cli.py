"""`mxshield dmarc`: the milter's checks on a message file, the header it
would add, the exact JSON of the issue, both DMARC modes."""

import json
import os

import dkim

import dnsserver
from harness import DaemonTest

KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dkim", "keys")


def message(frm, body=b"Hello\r\n"):
    return (b"From: " + frm.encode() + b"\r\nTo: bob@our.example\r\nSubject: t\r\n"
            b"Date: Sat, 05 Dec 2026 06:00:00 +0000\r\n\r\n" + body)


class DmarcCli(DaemonTest):

    def setUp(self):
        self.nsd = dnsserver.shared_nsd()

    def run_dmarc(self, raw, *args, ip="198.51.100.7", mailfrom="x@nopolicy.dmarc.test",
                  conf=""):
        d = self.tmpdir()
        path = os.path.join(d, "m.eml")
        with open(path, "wb") as f:
            f.write(raw)
        cpath = os.path.join(d, "mxshield.conf")
        with open(cpath, "w") as f:
            f.write("myhostname = mx.our.example\n" + conf)
        st, out, err = self.run_cli("dmarc", "-c", cpath, "--resolver", self.nsd.addr,
                                    "--ip", ip, "--helo", "client.example",
                                    "--mailfrom", mailfrom, *args, path)
        self.assertEqual(st, 0, err)
        return out

    def test_json_of_a_signed_message(self):
        with open(os.path.join(KEYS, "rsa2048.pem"), "rb") as f:
            raw = message("a@reject.dmarc.test")
            raw = dkim.sign(raw, b"rsa", b"reject.dmarc.test", f.read()) + raw
        out = self.run_dmarc(raw, "--json")
        j = json.loads(out.splitlines()[-1])
        self.assertEqual(set(j), {"spf", "dkim", "arc", "dmarc", "authentication_results",
                                  "action"})
        self.assertEqual(j["spf"], {"result": "fail", "domain": "nopolicy.dmarc.test"})
        self.assertEqual(len(j["dkim"]), 1)
        sig = j["dkim"][0]
        self.assertEqual({k: sig[k] for k in ("index", "result", "d", "s", "a", "i")},
                         {"index": 0, "result": "pass", "d": "reject.dmarc.test", "s": "rsa",
                          "a": "rsa-sha256", "i": "@reject.dmarc.test"})
        self.assertIn("reason", sig)
        self.assertEqual(j["arc"], {"result": "none"})
        self.assertEqual(j["dmarc"], {"result": "pass", "header_from": "reject.dmarc.test",
                                      "policy": "reject", "disposition": "none"})
        self.assertTrue(j["authentication_results"].startswith(
            "Authentication-Results: mx.our.example; spf=fail"), j)
        self.assertEqual(j["action"], "accept")
        # the text form: the folded header and the action
        self.assertIn("Authentication-Results: mx.our.example;\n\tspf=fail", out)

    def test_failures_and_modes(self):
        j = json.loads(self.run_dmarc(message("a@reject.dmarc.test"), "--json").splitlines()[-1])
        self.assertEqual((j["dmarc"]["result"], j["dmarc"]["disposition"], j["action"]),
                         ("fail", "reject", "reject"))
        j = json.loads(self.run_dmarc(message("a@b.example, c@d.example"), "--json")
                       .splitlines()[-1])
        self.assertEqual((j["dmarc"]["result"], j["action"]), ("permerror", "reject"))
        # a sibling's SPF pass: its own Organizational Domain in the tree walk
        # (none.dmarc.test publishes a record), one with the From domain by
        # the Public Suffix List (both under dmarc.test)
        for mode, want in (("dmarcbis", "fail"), ("rfc7489", "pass")):
            j = json.loads(self.run_dmarc(message("a@reject.dmarc.test"), "--json",
                                          ip="192.0.2.5", mailfrom="b@none.dmarc.test",
                                          conf="dmarc_mode = %s\n" % mode).splitlines()[-1])
            self.assertEqual(j["spf"]["result"], "pass")
            self.assertEqual(j["dmarc"]["result"], want, (mode, j))
        # SPF of a subdomain aligns (relaxed) in both
        for mode in ("dmarcbis", "rfc7489"):
            j = json.loads(self.run_dmarc(message("a@reject.dmarc.test"), "--json",
                                          ip="192.0.2.5", mailfrom="b@bounce.reject.dmarc.test",
                                          conf="dmarc_mode = %s\n" % mode).splitlines()[-1])
            self.assertEqual(j["dmarc"]["result"], "pass", (mode, j))

    def test_public_suffix_domain_psd_y(self):
        # the Organizational Domain is one label below the psd=y record
        for mailfrom, want in (("b@bounce.org1.psd.dmarc.test", "pass"),
                               ("b@org2.psd.dmarc.test", "fail")):
            j = json.loads(self.run_dmarc(message("a@org1.psd.dmarc.test"), "--json",
                                          ip="192.0.2.5", mailfrom=mailfrom).splitlines()[-1])
            self.assertEqual(j["spf"]["result"], "pass", j)
            self.assertEqual((j["dmarc"]["result"], j["dmarc"]["policy"]), (want, "reject"),
                             (mailfrom, j))

    def test_trace_shows_each_step(self):
        out = self.run_dmarc(message("a@reject.dmarc.test"), "--trace")
        self.assertIn("spf: fail for x@nopolicy.dmarc.test\n", out)
        self.assertIn("dmarc: policy of reject.dmarc.test at _dmarc.reject.dmarc.test: p=reject\n",
                      out)
        self.assertIn("dmarc: fail; action reject:", out)

    def test_bad_milter_settings_are_refused_with_their_line(self):
        for text, want in (("milter_listen = tcp:8891\n", "mxshield.conf:1: milter_listen: "),
                           ("milter_listen = inet:127.0.0.1:8891\ndmarc_mode = psl\n",
                            "mxshield.conf:2: dmarc_mode \"psl\" is neither"),
                           ("milter_listen = inet:127.0.0.1:8891\n"
                            "dmarc_temperror_action = reject\n",
                            "mxshield.conf:2: dmarc_temperror_action: \"reject\"")):
            cpath = os.path.join(self.tmpdir(), "mxshield.conf")
            with open(cpath, "w") as f:
                f.write(text)
            st, out, err = self.run_cli("config", "-c", cpath)
            self.assertEqual(st, 1, err)
            self.assertIn(want, err)

    def test_usage(self):
        cpath = os.path.join(self.tmpdir(), "mxshield.conf")
        open(cpath, "w").close()
        st, out, err = self.run_cli("dmarc", "-c", cpath, "--ip", "192.0.2.1")
        self.assertEqual(st, 2)
        self.assertIn("usage: mxshield dmarc", err)
