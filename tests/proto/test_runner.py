"""The test runner itself (run.py): every test_*.py found without a list,
a module without tests or that cannot be imported is a failure, a skipped
test is reported with its reason, a worker that dies or hangs past every
alarm is a failure (a hung one is killed), modules really run at the same
time, and their output comes out whole, in order."""

import os
import subprocess
import sys
import textwrap

from harness import DaemonTest
import harness

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")

MODULES = {
    "test_a.py": """
        import unittest
        class A(unittest.TestCase):
            def test_one(self):
                print("output of a")
            def test_two(self):
                pass
        """,
    "test_b.py": """
        import unittest
        class B(unittest.TestCase):
            def test_passes(self):
                pass
            def test_skipped(self):
                self.skipTest("no frobnicator here")
        """,
    "test_c.py": """
        import unittest
        class C(unittest.TestCase):
            def test_fails(self):
                self.assertEqual(1, 2)
        """,
    "test_d.py": """
        class NotATestCase:
            def test_never(self):
                pass
        """,
    "test_e.py": """
        import no_such_module_anywhere
        """,
    "test_f.py": """
        import os, unittest
        class F(unittest.TestCase):
            def test_worker_dies(self):
                os._exit(3)
        """,
    # p1 and p2 pass only when they run at the same time
    "test_p1.py": """
        import os, time, unittest
        class P1(unittest.TestCase):
            def test_meets_p2(self):
                d = os.path.dirname(os.path.abspath(__file__))
                open(os.path.join(d, "p1.here"), "w").close()
                for _ in range(200):
                    if os.path.exists(os.path.join(d, "p2.here")):
                        return
                    time.sleep(0.05)
                self.fail("p2 never ran while p1 waited")
        """,
    "test_p2.py": """
        import os, time, unittest
        class P2(unittest.TestCase):
            def test_meets_p1(self):
                d = os.path.dirname(os.path.abspath(__file__))
                open(os.path.join(d, "p2.here"), "w").close()
                for _ in range(200):
                    if os.path.exists(os.path.join(d, "p1.here")):
                        return
                    time.sleep(0.05)
                self.fail("p1 never ran while p2 waited")
        """,
    "test_zh.py": """
        import signal, time, unittest
        class ZH(unittest.TestCase):
            def test_hangs_past_its_alarm(self):
                signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
                time.sleep(60)
        """,
    "helper_not_a_test.py": """
        raise SystemExit("never imported")
        """,
}


class Runner(DaemonTest):

    def run_dir(self, *args, binaries=1):
        """run.py over MODULES with the daemon binary linked into temporary
        directories (run.py keeps its module times beside the binary)."""
        d = self.tmpdir()
        for name, text in MODULES.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(textwrap.dedent(text))
        cmd = [sys.executable, RUN, "--dir", d]
        for _ in range(binaries):
            link = os.path.join(self.tmpdir(), "mxshield")
            os.symlink(harness.BINARY, link)
            cmd += ["--binary", link]
        p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=28)
        return p.returncode, p.stdout + p.stderr

    def test_discovery_skips_failures_and_order(self):
        rc, out = self.run_dir("-j", "2", "--timeout", "2")
        self.assertEqual(rc, 1, out)
        last = out.rstrip().splitlines()[-1]
        # a: 2, b: 1, p1, p2 passed; c, d, e, f, zh failed; b's skip
        self.assertEqual(last, "proto: 5 passed, 5 failed, 1 skipped", out)
        self.assertIn("skipped: test_b.B.test_skipped: no frobnicator here", out)
        self.assertIn("FAIL: test_c.C.test_fails", out)
        self.assertIn("FAIL: test_d\n", out)
        self.assertIn("test_d: no tests found", out)
        self.assertIn("FAIL: test_e\n", out)
        self.assertIn("No module named 'no_such_module_anywhere'", out)
        self.assertIn("FAIL: test_f\n", out)
        self.assertIn("exited with status 3 without results", out)
        # zh blocks the alarm that ends a hung test: its worker is killed
        self.assertIn("FAIL: test_zh\n", out)
        self.assertIn("the worker for test_zh was killed after 9s", out)
        self.assertNotIn("helper_not_a_test", out)
        # each module's block whole, in name order, its test lines inside it
        heads = [l.split()[1] for l in out.splitlines() if l.startswith("== ")]
        self.assertEqual(heads, ["test_a", "test_b", "test_c", "test_f", "test_p1",
                                 "test_p2", "test_zh"])
        block_a = out.split("== test_a", 1)[1].split("== test_b", 1)[0]
        self.assertIn("output of a", block_a)
        self.assertIn("A.test_two", block_a)

    def test_failing_subtest_fails_its_test(self):
        # a failing subTest used to be counted neither passed nor failed
        d = self.tmpdir()
        with open(os.path.join(d, "test_s.py"), "w") as f:
            f.write(textwrap.dedent("""
                import unittest
                class S(unittest.TestCase):
                    def test_subtests_fail(self):
                        for i in range(3):
                            with self.subTest(i=i):
                                self.assertNotEqual(i, 1)
                    def test_subtests_pass(self):
                        for i in range(3):
                            with self.subTest(i=i):
                                self.assertLess(i, 3)
                """))
        link = os.path.join(self.tmpdir(), "mxshield")
        os.symlink(harness.BINARY, link)      # run.py keeps its times beside it
        p = subprocess.run([sys.executable, RUN, "--dir", d, "--binary", link],
                           capture_output=True, text=True, timeout=28)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, out)
        self.assertEqual(out.rstrip().splitlines()[-1], "proto: 1 passed, 1 failed", out)
        self.assertIn("FAIL: test_s.S.test_subtests_fail", out)
        self.assertIn("(i=1)", out)

    def test_two_binaries_count_twice(self):
        rc, out = self.run_dir("-j", "2", "-k", "test_a.", "-k", "P", binaries=2)
        lines = out.rstrip().splitlines()
        self.assertEqual(rc, 1, out)        # d and e fail to load: once, not per binary
        # a's two tests, p1 and p2: against each binary
        self.assertEqual(lines[-1], "proto: 8 passed, 2 failed", out)
        self.assertEqual(len([l for l in lines if l.startswith("proto [")
                              and l.endswith(": 4 passed, 0 failed")]), 2, out)
        self.assertEqual(len([l for l in lines if l.startswith("== test_p1 [")]), 2, out)
