"""`mxshield ban scan`: Postfix log lines to auto-ban events, compared
line by line with tests/data/ban/postfix.expect and with fail2ban 1.0's
own postfix filter (aggressive mode, fail2ban-regex) on the same log."""

import json
import os
import re
import subprocess
import tempfile

from harness import DaemonTest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "ban")
LOG = os.path.join(DATA, "postfix.log")
EXPECT = os.path.join(DATA, "postfix.expect")
LINE_MAX = 8192                        # LOGEV_LINE_MAX
# fail2ban's own sample log for its postfix filter (Debian's fail2ban package)
F2B_SAMPLE = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs/postfix"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def expected():
    """{line: (f2b, event, host, extras)} from postfix.expect"""
    want = {}
    with open(EXPECT) as f:
        for row in f:
            if row.startswith("#") or not row.strip():
                continue
            w = row.split()
            want[int(w[0])] = (w[1], w[2], w[3], w[4:])
    return want


class BanScan(DaemonTest):

    def scan(self, *args, stdin=None):
        st, out, err = self.run_cli("ban", "scan", *args, stdin=stdin)
        self.assertEqual(st, 0, err)
        return out

    def test_text_matches_expect(self):
        want = {n: (e, h, x) for n, (f, e, h, x) in expected().items() if f != "dedup"}
        got = {}
        for row in self.scan(LOG).splitlines():
            w = row.split()
            self.assertRegex(w[1], ISO, row)
            got[int(w[0])] = (w[2], w[3], w[4:])
        self.assertEqual(got, want)

    def test_json_form_and_stdin(self):
        want = {n: v for n, v in expected().items() if v[0] != "dedup"}
        with open(LOG) as f:
            out = self.scan("--json", stdin=f.read())
        rows = [json.loads(r) for r in out.splitlines()]
        self.assertEqual(len(rows), len(want))
        for r in rows:
            self.assertEqual(list(r), ["line", "time", "host", "event", "user"], r)
            f2b, event, host, extras = want[r["line"]]
            self.assertEqual((r["event"], r["host"]), (event, host), r)
            self.assertRegex(r["time"], ISO)
            users = [x[5:] for x in extras if x.startswith("user=")]
            self.assertEqual(r["user"], users[0] if users else None, r)
        # the RFC 3339 stamp with an offset is converted to UTC exactly
        by_line = {r["line"]: r for r in rows}
        self.assertEqual(by_line[25]["time"], "2026-12-05T05:12:01Z")

    def test_same_lines_as_fail2ban(self):
        """Every line fail2ban's filter matches is an event here (or the
        disconnect of an AUTH failure counted already); every event here
        it does not match is one it does not know (marked extra)."""
        p = subprocess.run(["fail2ban-regex", "-o", "msg", LOG, "postfix[mode=aggressive]"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(LOG) as f:
            lines = f.read().split("\n")
        self.assertEqual(len(set(lines)), len(lines), "corpus lines must be unique")
        matched = set(p.stdout.splitlines())
        f2b = {i + 1 for i, line in enumerate(lines) if line in matched}
        self.assertGreater(len(f2b), 30)
        want = expected()
        self.assertEqual(f2b, {n for n, v in want.items() if v[0] in ("match", "dedup")})
        ours = {int(r.split()[0]) for r in self.scan(LOG).splitlines()}
        self.assertEqual(ours - f2b, {n for n, v in want.items() if v[0] == "extra"})
        self.assertEqual(f2b - ours, {n for n, v in want.items() if v[0] == "dedup"})

    def test_fail2ban_sample_log(self):
        """On fail2ban's own sample log (read where Debian installs it) the
        lines are the same: it has no AUTH failure logged twice."""
        self.assertTrue(os.path.exists(F2B_SAMPLE), "fail2ban is missing (scripts/deps test)")
        p = subprocess.run(["fail2ban-regex", "-o", "msg", F2B_SAMPLE, "postfix[mode=aggressive]"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        matched = set(p.stdout.splitlines())
        with open(F2B_SAMPLE) as f:
            lines = f.read().split("\n")
        f2b = {i + 1 for i, line in enumerate(lines) if line in matched}
        ours = {int(r.split()[0]) for r in self.scan(F2B_SAMPLE).splitlines()}
        self.assertGreater(len(f2b), 40)
        self.assertEqual(ours, f2b)

    def test_line_length_limit(self):
        head = ("Dec  5 06:00:00 mx postfix/smtpd[1]: warning: unknown[192.0.2.1]: "
                "SASL LOGIN authentication failed: ")
        at = head + "x" * (LINE_MAX - len(head))
        past = head + "y" * (LINE_MAX + 1 - len(head))
        tail = "Dec  5 06:00:01 mx postfix/smtpd[2]: lost connection after EHLO from x[192.0.2.2]"
        out = self.scan("--json", stdin="\n".join([at, past, tail, past + past, tail]) + "\n")
        rows = [json.loads(r) for r in out.splitlines()]
        self.assertEqual([(r["line"], r["event"]) for r in rows],
                         [(1, "auth-failed"), (3, "lost-connection"), (5, "lost-connection")])

    def test_last_line_without_newline_and_errors(self):
        out = self.scan(stdin="postfix/smtpd[9]: too many errors after DATA from x[2001:db8::9]")
        self.assertEqual(out, "1 - too-many-errors 2001:db8::9\n")
        st, out, err = self.run_cli("ban", "scan", "/nonexistent/mail.log")
        self.assertEqual(st, 1)
        self.assertIn("/nonexistent/mail.log", err)
        st, out, err = self.run_cli("ban", "scan", "--frobnicate")
        self.assertEqual(st, 2)
        st, out, err = self.run_cli("ban", "nonesuch")
        self.assertEqual(st, 2)
        self.assertIn("usage: mxshield ban", err)
        for args in (["ban", "--help"], ["ban", "scan", "--help"]):
            st, out, err = self.run_cli(*args)
            self.assertEqual(st, 0, args)
            self.assertIn("mxshield ban [-c FILE] scan [--json] [LOGFILE]", out)
