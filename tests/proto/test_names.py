"""Names and addresses past RFC 5321's sizes (src/util/mailaddr.h), over the
wire: each one byte past its limit, with the answer the README promises."""

import os

from harness import DaemonTest, cpu_ticks


class Sizes(DaemonTest):

    def test_recipient_path(self):
        # 254 octets (RFC 5321's 256-octet path less <>) is resolved; 255
        # is not: a temporary failure, neither a relay permission nor the
        # 554 Postfix would give only after resolving it
        d = self.daemon("recipient_restrictions = reject_unauth_destination\n")
        ours = "u" * (254 - len("@our.example")) + "@our.example"
        remote = "u" * (254 - len("@elsewhere.example")) + "@elsewhere.example"
        self.assertEqual(len(ours), 254)
        self.assertAnswers(d, [
            ({"recipient": ours}, "action=DUNNO"),
            ({"recipient": "u" + ours}, "action=451 4.3.0 <u%s>: Temporary lookup failure" % ours),
            ({"recipient": remote}, "action=554 5.7.1 <%s>: Relay access denied" % remote),
            ({"recipient": "u" + remote},
             "action=451 4.3.0 <u%s>: Temporary lookup failure" % remote),
        ])
        want = "address of 255 octets is longer than RFC 5321's 254: not resolved"
        self.assertIsNotNone(d.wait_log(want), d.read_log())

    def test_long_helo_in_access_table(self):
        # a 100 KB HELO of 50,000 labels under a listed domain: still found
        # by its parent, and the walk costs next to nothing (it used to
        # hash every suffix: seconds per lookup)
        k255 = ("abcdefghi." * 26)[:255 - len(".evil.example")] + ".evil.example"
        k256 = "k" + k255
        d = self.daemon("policy_line_length_limit = 200000\n"
                        "policy_request_size_limit = 300000\n"
                        "helo_restrictions = check_helo_access texthash:@TMP@/helo\n",
                        {"helo": "evil.example DISCARD evil\n%s DISCARD k255\n%s DISCARD k256\n"
                                 % (k255, k256)})
        helo = "a." * 50000 + "evil.example"
        c = self.client(d)
        t0 = cpu_ticks(d.proc.pid)
        for _ in range(5):
            self.assertEqual(c.ask({"helo_name": helo}), "action=DISCARD evil")
        used = (cpu_ticks(d.proc.pid) - t0) / os.sysconf("SC_CLK_TCK") / 5
        self.assertLess(used, 0.050, "%.1f ms of CPU per request" % (used * 1e3))
        # a parent of 255 characters is a key, one of 256 is not; the whole
        # name is looked up whatever its length
        self.assertEqual(len(k255), 255)
        self.assertAnswers(d, [
            ({"helo_name": "x." + k255}, "action=DISCARD k255"),
            ({"helo_name": "x." + k256}, "action=DISCARD evil"),
            ({"helo_name": k256}, "action=DISCARD k256"),
        ])
