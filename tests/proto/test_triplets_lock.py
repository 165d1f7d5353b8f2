"""The triplets file's writers' lock (flock on triplets.db): the daemon
keeps it across passes of its loop for a burst of new triplets, and lets
go about 10 ms after the burst even when nothing else happens, so that
another process's writer (`greylist purge`, `import-postgrey`) does not
wait for the daemon's next request or its once-a-second timer."""

import os
import subprocess
import time

from harness import DaemonTest


class TripletsLock(DaemonTest):

    def test_released_soon_after_a_burst(self):
        d = self.daemon("recipient_restrictions = greylist\n")
        c = self.client(d)
        db = os.path.join(os.path.dirname(d.conf_path), "data", "triplets.db")
        held = []
        for burst in range(5):
            for i in range(5):
                self.assertIn("450", c.ask({"sender": "s%d.%d@sender.example" % (burst, i)}))
            time.sleep(0.15)
            # flock(1) -n: fails at once (status 1) while the daemon holds it
            p = subprocess.run(["flock", "-n", db, "true"], capture_output=True)
            held.append(p.returncode)
        # before: held until the daemon's next timer pass, up to a second
        self.assertEqual(held, [0] * 5)
