"""Debian's redis-server (and redis-sentinel) for the tests, on loopback
on free ports, each in a temporary directory of its own."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

from harness import free_port

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"


class RedisServer:
    """One redis-server; conf_extra: more configuration lines."""

    def __init__(self, conf_extra="", port=None, sentinel=False):
        self.dir = tempfile.mkdtemp(prefix="mxredis.")
        self.port = port or free_port()
        self.sentinel = sentinel
        self.conf_extra = conf_extra
        self.proc = None
        self.start()

    def start(self):
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\n"
                    "daemonize no\nlogfile %s\n%s\n"
                    % (self.port, self.dir, os.path.join(self.dir, "log"), self.conf_extra))
        self.proc = subprocess.Popen([SENTINEL if self.sentinel else REDIS, conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis exited: " + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis did not start: " + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, True)

    def cli(self, *args, user=None, password=None):
        """redis-cli against this server; its output, stripped."""
        cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        if user:
            cmd += ["--user", user]
        if password:
            cmd += ["--pass", password, "--no-auth-warning"]
        p = subprocess.run(cmd + list(args), capture_output=True, timeout=10)
        return p.stdout.decode("utf-8", "replace").strip()

    def addr(self):
        return "127.0.0.1:%d" % self.port
