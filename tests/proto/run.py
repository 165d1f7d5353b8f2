#!/usr/bin/python3
"""run.py - black-box scenario tests of mxshield over real sockets.

    /usr/bin/python3 tests/proto/run.py --binary build/mxshield [-v] [-k WORD]...
                                        [-j N] [--binary OTHER]...

Starts the real daemon (`mxshield serve -c CONF`) on free loopback ports
and unix sockets in temporary directories, talks the Postfix policy
delegation protocol to it and checks the exact answers, limits, signals,
reloads and the check/config commands.

Every tests/proto/test_*.py is a test module; nothing lists them by hand,
so a new file always runs, and a module in which no test can be found
(or that does not import) is a failure.  The modules are independent:
each one runs in a worker process of its own (its own daemons, ports,
temporary directories and DNS server), N at a time (-j, default: the
number of CPUs), the modules that took longest last time first.  Each
module's output is printed whole, in name order, as soon as it and the
modules before it have finished.  With several --binary options every
module runs against each binary, in one pool of workers (make check runs
one pool per binary, at once).  -j 1 with one binary runs everything in
this process, as before.

Prints the failures' tracebacks, every skipped test with its reason, and
the summary

    proto: N passed, N failed[, N skipped]

(one such line per binary before it when there are several) and exits 1
when any test failed (or errored), else 0.
"""

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

PER_TEST_TIMEOUT = 30
RESULT_TAG = "@@proto-result "         # a worker's last line: its results as JSON


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
        # a test class may name a longer budget (test_deb: a package build)
        signal.alarm(getattr(test, "proto_timeout", PER_TEST_TIMEOUT))

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

    def addSubTest(self, test, subtest, err):
        # a failing subTest fails its test (unittest then never calls
        # addSuccess): without this it vanished from both counts
        if err is not None:
            self.failed.append((test, "%s:\n%s" % (subtest, self._exc_info_to_string(err, test))))
            self._line("FAIL", subtest)

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


class Outcome:
    """What one module (or the whole run) gave: test ids and texts."""

    def __init__(self):
        self.passed = []        # ids
        self.failed = []        # (id, traceback text)
        self.skipped = []       # (id, reason)

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    @classmethod
    def of_result(cls, result):
        o = cls()
        o.passed = [t.id() for t in result.passed]
        o.failed = [(t.id(), tb) for t, tb in result.failed]
        o.skipped = [(t.id(), reason) for t, reason in result.skipped_list]
        return o

    def to_json(self):
        return json.dumps({"passed": self.passed, "failed": self.failed,
                           "skipped": self.skipped})

    @classmethod
    def from_json(cls, text):
        d = json.loads(text)
        o = cls()
        o.passed = d["passed"]
        o.failed = [tuple(x) for x in d["failed"]]
        o.skipped = [tuple(x) for x in d["skipped"]]
        return o

    def nfailed(self):
        return len({i for i, _ in self.failed})


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def discover(directory):
    """Every test_*.py in the directory, by name."""
    return sorted(os.path.splitext(os.path.basename(p))[0]
                  for p in glob.glob(os.path.join(directory, "test_*.py")))


def load(module, keys):
    """(tests of a module selected by -k, None) or ([], error text) when the
    module cannot be imported or holds no test at all."""
    try:
        tests = list(iter_tests(unittest.TestLoader().loadTestsFromName(module)))
    except Exception:
        return [], "cannot load %s:\n%s" % (module, traceback.format_exc())
    # unittest turns an import error into a test that raises it
    for t in tests:
        if type(t).__name__ == "_FailedTest":
            try:
                t.debug()
            except Exception:
                return [], "cannot load %s:\n%s" % (module, traceback.format_exc())
    if not tests:
        return [], "%s: no tests found (no unittest.TestCase with test_* methods)" % module
    if keys:
        tests = [t for t in tests if any(k in t.id() for k in keys)]
    return tests, None


def run_tests(tests, verbose):
    """Run tests in this process, printing a line per test; an Outcome."""
    signal.signal(signal.SIGALRM, on_alarm)
    result = Result(verbose)
    try:
        unittest.TestSuite(tests).run(result)
    finally:
        harness.kill_all()
    return Outcome.of_result(result)


def worker_main(args):
    """--worker MODULE: run one module, print its lines, then the result."""
    tests, err = load(args.worker, args.k)
    out = Outcome()
    if err:
        print(err.rstrip(), flush=True)
        out.failed.append((args.worker, err))
    elif tests:
        out = run_tests(tests, args.v)
    print(RESULT_TAG + out.to_json(), flush=True)
    return 0


def die_with_parent():
    """In a worker: SIGTERM when the runner dies, so nothing outlives it."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


class Job:
    """One module against one binary, in a worker process (a process group
    of its own with the daemons it starts, so that all of it can go)."""

    def __init__(self, module, binary, label, budget):
        self.module = module
        self.binary = binary
        self.label = label
        # the worker's alarm stops a hung test; this stops a hung worker
        self.limit = 5 + 2 * budget
        self.killed = False
        self.proc = None
        self.out = None
        self.t0 = self.elapsed = 0.0
        self.outcome = None
        self.text = ""

    def start(self, args):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", self.module,
               "--binary", self.binary, "--dir", args.dir, "--timeout", str(PER_TEST_TIMEOUT)]
        for k in args.k:
            cmd += ["-k", k]
        if args.v:
            cmd.append("-v")
        self.out = tempfile.TemporaryFile()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
                                     start_new_session=True)

    def kill(self):
        """The worker and everything it started."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()

    def poll(self):
        """True once the worker has finished and its output is read."""
        if self.proc.poll() is None:
            if time.monotonic() - self.t0 < self.limit:
                return False
            self.kill()
            self.killed = True
        self.elapsed = time.monotonic() - self.t0
        self.out.seek(0)
        text = self.out.read().decode("utf-8", "replace")
        self.out.close()
        lines, result = [], None
        for line in text.splitlines():
            if line.startswith(RESULT_TAG):
                result = line[len(RESULT_TAG):]
            else:
                lines.append(line)
        self.text = "\n".join(lines)
        if result is not None:
            self.outcome = Outcome.from_json(result)
            if self.label:      # the same test against two binaries: two results
                o = self.outcome
                o.passed = ["[%s] %s" % (self.label, i) for i in o.passed]
                o.failed = [("[%s] %s" % (self.label, i), tb) for i, tb in o.failed]
                o.skipped = [("[%s] %s" % (self.label, i), r) for i, r in o.skipped]
        else:
            self.outcome = Outcome()
            self.outcome.failed.append(
                ("[%s] %s" % (self.label, self.module) if self.label else self.module,
                 "the worker for %s was killed after %ds" % (self.module, self.limit)
                 if self.killed else "the worker for %s exited with status %s without results"
                 % (self.module, self.proc.returncode)))
        return True


def times_path(binary):
    """Where the last run's module times are kept: beside the binary."""
    return os.path.join(os.path.dirname(binary), ".proto-times.json")


def read_times(binary):
    try:
        with open(times_path(binary)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def write_times(binary, times):
    old = read_times(binary)
    old.update(times)
    try:
        with open(times_path(binary), "w") as f:
            json.dump(old, f, indent=0, sort_keys=True)
    except OSError:
        pass


def run_parallel(args, modules, binaries, labels):
    """Every (binary, module) in a pool of args.j workers; {binary: Outcome}.
    modules: name -> its selected tests."""
    jobs = [Job(m, b, labels[b], sum(getattr(t, "proto_timeout", PER_TEST_TIMEOUT)
                                     for t in modules[m]))
            for b in binaries for m in modules]
    times = {b: read_times(b) for b in binaries}
    # longest first (never timed: as long as the longest), name order for output
    queue = sorted(jobs, key=lambda j: -times[j.binary].get(j.module, float("inf")))
    running, finished = [], set()
    next_print = 0
    try:
        while queue or running:
            while queue and len(running) < args.j:
                job = queue.pop(0)
                job.start(args)
                running.append(job)
            time.sleep(0.05)
            for job in [j for j in running if j.poll()]:
                running.remove(job)
                finished.add(job)
            while next_print < len(jobs) and jobs[next_print] in finished:
                job = jobs[next_print]
                head = "== %s%s (%.1fs)" % (job.module, job.label and " [%s]" % job.label,
                                            job.elapsed)
                print(head + ("\n" + job.text if job.text else ""), flush=True)
                next_print += 1
    finally:
        for job in running:
            job.kill()
    outcomes = {}
    for b in binaries:
        outcomes[b] = Outcome()
        for job in jobs:
            if job.binary == b:
                outcomes[b].add(job.outcome)
        if not args.k:
            write_times(b, {j.module: round(j.elapsed, 2) for j in jobs if j.binary == b})
    return outcomes


def main():
    global PER_TEST_TIMEOUT
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", action="append", default=[],
                    help="the mxshield to test (repeatable; default build/mxshield)")
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this (repeatable)")
    ap.add_argument("-v", action="store_true", help="more detail")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1
    ap.add_argument("-j", type=int, default=cpus,
                    help="modules run at once, each in a worker process (default: CPUs)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--dir", default=HERE, help=argparse.SUPPRESS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=int, default=PER_TEST_TIMEOUT,
                    help="seconds one test may take (default %(default)s)")
    args = ap.parse_args()
    PER_TEST_TIMEOUT = args.timeout

    args.dir = os.path.abspath(args.dir)
    if args.dir not in sys.path:
        sys.path.insert(0, args.dir)
    binaries = [os.path.abspath(b) for b in args.binary] \
        or [os.path.join(harness.REPO, "build", "mxshield")]
    harness.BINARY = binaries[0]
    if args.worker:
        return worker_main(args)

    # Load every module here too: -k, --list, and errors found before any run.
    modules, selected, outcome = {}, [], Outcome()
    for m in discover(args.dir):
        tests, err = load(m, args.k)
        if err:
            print(err.rstrip())
            outcome.failed.append((m, err))
        elif tests:
            modules[m] = tests
            selected.extend(tests)
    if args.list:
        for t in selected:
            print(t.id())
        return 0
    for b in binaries:
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            print("proto: cannot run %s: no such executable" % b)
            print("proto: 0 passed, 1 failed")
            return 1

    t0 = time.monotonic()
    labels = {b: os.path.relpath(b, harness.REPO) if len(binaries) > 1 else ""
              for b in binaries}
    try:
        if args.j <= 1 and len(binaries) == 1:
            per_binary = {binaries[0]: run_tests(selected, args.v)}
        else:
            per_binary = run_parallel(args, modules, binaries, labels)
    except KeyboardInterrupt:
        harness.kill_all()
        raise
    elapsed = time.monotonic() - t0
    for b in binaries:
        outcome.add(per_binary[b])

    for test_id, tb in outcome.failed:
        print("=" * 70)
        print("FAIL: %s" % test_id)
        print("-" * 70)
        print(tb.rstrip())
    if outcome.failed:
        print("=" * 70)
    for test_id, reason in outcome.skipped:
        print("skipped: %s: %s" % (test_id, reason))
    print("(%.1fs, %d at a time)" % (elapsed, max(1, args.j)))

    def summary(o, what="proto"):
        s = "%s: %d passed, %d failed" % (what, len(o.passed), o.nfailed())
        return s + (", %d skipped" % len(o.skipped) if o.skipped else "")
    if len(binaries) > 1:
        for b in binaries:
            print(summary(per_binary[b], "proto [%s]" % labels[b]))
    print(summary(outcome))
    return 1 if outcome.failed or not selected else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        harness.kill_all()
        raise
