"""--help exits 0 for mxshield and every command, with the synopsis on
standard output; a usage error still exits 2."""

from harness import DaemonTest

COMMANDS = ["serve", "check", "config", "map", "greylist", "postfix-config", "spf",
            "status", "migrate", "report"]


class Help(DaemonTest):

    def test_help_exits_zero_everywhere(self):
        for args in [["--help"], ["-h"], ["help"]] + [[c, "--help"] for c in COMMANDS] \
                + [["greylist", "list", "--help"], ["migrate", "postgrey", "--help"],
                   ["dkim", "--help"]]:
            st, out, err = self.run_cli(*args)
            self.assertEqual(st, 0, (args, err))
            self.assertIn("usage: mxshield", out, args)
            self.assertIn("mxshield migrate postgrey", out, args)

    def test_usage_error_exits_two(self):
        st, out, err = self.run_cli("frobnicate")
        self.assertEqual(st, 2)
        self.assertIn("usage: mxshield", err)
        # a map key that looks like an option is a key, not a request for help
        st, out, err = self.run_cli("map", "query", "inline:{-h=found}", "-h")
        self.assertEqual((st, out), (0, "found\n"), err)
