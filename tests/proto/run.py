#!/usr/bin/python3
"""run.py - black-box scenario tests of mxshield over real sockets.

    /usr/bin/python3 tests/proto/run.py --binary build/mxshield [-v] [-k WORD]...

Starts the real daemon (`mxshield serve -c CONF`) on free loopback ports
and unix sockets in temporary directories, talks the Postfix policy
delegation protocol to it and checks the exact answers, limits, signals,
reloads and the check/config commands.  Prints one summary line

    proto: N passed, N failed[, N skipped]

and exits 1 when any test failed (or errored), else 0.
"""

import argparse
import os
import signal
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

MODULES = [
    "test_protocol",
    "test_limits",
    "test_restrictions",
    "test_tables",
    "test_lifecycle",
    "test_cli",
    "test_seed004",
    "test_dns",
    "test_greylist",
    "test_postfix_config",
    "test_postfix",
    "test_spf",
    "test_names",
    "test_install",
]

PER_TEST_TIMEOUT = 30


class TestHung(Exception):
    pass


def on_alarm(signum, frame):
    raise TestHung("test exceeded %ds" % PER_TEST_TIMEOUT)


class Result(unittest.TestResult):
    """Counts and prints one line per test as it finishes."""

    def __init__(self, verbose):
        super().__init__()
        self.verbose = verbose
        self.passed = []
        self.failed = []        # (test, formatted traceback), several per test possible
        self.skipped_list = []
        self.t0 = 0.0

    def name(self, test):
        return "%s.%s" % (type(test).__name__, test._testMethodName) \
            if hasattr(test, "_testMethodName") else str(test)

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()
        signal.alarm(PER_TEST_TIMEOUT)

    def stopTest(self, test):
        signal.alarm(0)
        super().stopTest(test)

    def _line(self, status, test):
        print("%-5s %-60s %5.2fs" % (status, self.name(test), time.monotonic() - self.t0),
              flush=True)

    def addSuccess(self, test):
        self.passed.append(test)
        self._line("ok", test)

    def _drop_pass(self, test):
        self.passed = [t for t in self.passed if t is not test]

    def addFailure(self, test, err):
        self._drop_pass(test)
        self.failed.append((test, self._exc_info_to_string(err, test)))
        self._line("FAIL", test)

    def addError(self, test, err):
        self._drop_pass(test)
        self.failed.append((test, self._exc_info_to_string(err, test)))
        self._line("ERROR", test)

    def addSkip(self, test, reason):
        self.skipped_list.append((test, reason))
        self._line("skip", test)
        if self.verbose:
            print("      (%s)" % reason)

    def addExpectedFailure(self, test, err):
        self.passed.append(test)
        self._line("xfail", test)

    def addUnexpectedSuccess(self, test):
        self.failed.append((test, "unexpected success"))
        self._line("FAIL", test)


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(harness.REPO, "build", "mxshield"))
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this (repeatable)")
    ap.add_argument("-v", action="store_true", help="more detail")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()

    harness.BINARY = os.path.abspath(args.binary)
    loader = unittest.TestLoader()
    tests = []
    for m in MODULES:
        tests.extend(iter_tests(loader.loadTestsFromName(m)))
    if args.k:
        tests = [t for t in tests if any(k in t.id() for k in args.k)]
    if args.list:
        for t in tests:
            print(t.id())
        return 0
    if not (os.path.isfile(harness.BINARY) and os.access(harness.BINARY, os.X_OK)):
        print("proto: cannot run %s: no such executable" % harness.BINARY)
        print("proto: 0 passed, 1 failed")
        return 1

    signal.signal(signal.SIGALRM, on_alarm)
    result = Result(args.v)
    t0 = time.monotonic()
    try:
        unittest.TestSuite(tests).run(result)
    finally:
        harness.kill_all()
    elapsed = time.monotonic() - t0

    for test, tb in result.failed:
        print("=" * 70)
        print("FAIL: %s" % test.id())
        print("-" * 70)
        print(tb.rstrip())
    if result.failed:
        print("=" * 70)
    nfailed = len({t.id() for t, _ in result.failed})
    summary = "proto: %d passed, %d failed" % (len(result.passed), nfailed)
    if result.skipped_list:
        summary += ", %d skipped" % len(result.skipped_list)
    print("(%.1fs)" % elapsed)
    print(summary)
    return 1 if result.failed or not tests else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        harness.kill_all()
        raise
