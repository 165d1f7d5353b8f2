#!/usr/bin/python3
"""spawn_bridge.py - serve a stdin/stdout policy program on loopback TCP,
one process per connection, as Postfix's spawn(8) runs
postfix-policyd-spf-python.

    spawn_bridge.py PORT RESOLV_CONF -- COMMAND ARGS...

Run inside a private mount namespace (unshare -m): RESOLV_CONF is bind-
mounted over /etc/resolv.conf first, so the program's DNS goes to the test
server on loopback and nowhere else.
"""
import os
import socket
import subprocess
import sys


def main():
    port, resolv = int(sys.argv[1]), sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "--bind", resolv, "/etc/resolv.conf"], check=True)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    print("ready", flush=True)
    while True:
        conn, _ = ls.accept()
        fd = conn.fileno()
        pid = os.fork()
        if pid == 0:
            ls.close()
            os.dup2(fd, 0)
            os.dup2(fd, 1)
            os.execvp(cmd[0], cmd)
        conn.close()
        # reap finished children without blocking
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


main()
