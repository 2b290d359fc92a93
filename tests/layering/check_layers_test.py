"""The layering check passes on the tree and fails on each kind of planted
include (a lower folder including a higher one, a role including another
role, a layer including cli/ or bench/, production code including tests/)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(ROOT, "scripts", "check_layers.py")
FOLDERS = ["proto", "durable", "config", "runtime", "queue", "scoring", "training", "local_cluster",
           "bridge", "ventilator", "worker", "sink", "cli", "bench"]


def run(root):
    return subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.copy = tempfile.mkdtemp(prefix="scorepipe-layers-")
        for folder in FOLDERS:
            shutil.copytree(os.path.join(ROOT, folder), os.path.join(self.copy, folder),
                            ignore=shutil.ignore_patterns("*.txt", "*.yaml", "*.cmake", "*.md"))

    def tearDown(self):
        shutil.rmtree(self.copy)

    def plant(self, path, include):
        with open(os.path.join(self.copy, path), "a") as f:
            f.write(f'\n#include "{include}"\n')

    def test_the_tree_keeps_its_layers(self):
        result = run(ROOT)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_the_copy_keeps_them_too(self):
        result = run(self.copy)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_the_graph_shows_the_includes_between_folders(self):
        result = subprocess.run([sys.executable, CHECK, "--graph", self.copy], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertRegex(result.stdout, r"\nsink -> queue: \d+ includes? in \d+ files?\n")
        # archive/: the archiver and the commands that read the archive are to come (issue 21).
        self.assertEqual(lines[-1], "included by no folder: archive, bridge, ventilator, worker, sink, gateway, cli, bench")
        self.assertFalse(any(line.startswith("proto -> ") for line in lines), result.stdout)

        self.plant("proto/codec.cc", "queue/queue.h")
        result = subprocess.run([sys.executable, CHECK, "--graph", self.copy], capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertIn("proto -> queue: 1 include in 1 file\n", result.stdout)

    def test_an_unknown_option_is_a_usage_error(self):
        result = subprocess.run([sys.executable, CHECK, "--grpah"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("Usage:", result.stderr)

    def test_a_lower_folder_including_a_higher_one_fails(self):
        self.plant("proto/codec.cc", "queue/queue.h")
        result = run(self.copy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("proto/codec.cc:", result.stdout)
        self.assertIn("proto/ may not include queue/ (queue/queue.h); proto/ may use: none", result.stdout)

    def test_scoring_including_the_runtime_fails(self):
        self.plant("scoring/model.h", "runtime/node.h")
        result = run(self.copy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("scoring/ may not include runtime/", result.stdout)

    def test_a_role_including_another_role_fails(self):
        self.plant("sink/sink.cc", "bridge/bridge.h")
        result = run(self.copy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("the sink role includes another role (bridge/bridge.h)", result.stdout)

    def test_a_layer_including_the_top_fails(self):
        for path, include in [("local_cluster/supervisor.cc", "cli/status_command.h"),
                              ("training/trainer.cc", "bench/report.h")]:
            with self.subTest(path=path):
                self.plant(path, include)
                result = run(self.copy)
                self.assertEqual(result.returncode, 1)
                self.assertIn(f"may not include {include.split('/')[0]}/", result.stdout)

    def test_bench_including_cli_fails(self):
        self.plant("bench/report.cc", "cli/status_command.h")
        result = run(self.copy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("bench/ may not include cli/", result.stdout)

    def test_production_code_including_the_tests_fails(self):
        self.plant("worker/worker.cc", "tests/support/wait.h")
        result = run(self.copy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("worker/ includes the tests", result.stdout)

    def test_every_violation_is_listed_with_its_line(self):
        self.plant("proto/codec.cc", "queue/queue.h")
        self.plant("proto/codec.cc", "cli/demo_command.h")
        result = run(self.copy)
        lines = [l for l in result.stdout.splitlines() if l.startswith("proto/codec.cc:")]
        self.assertEqual(len(lines), 2, result.stdout)
        with open(os.path.join(self.copy, "proto/codec.cc")) as f:
            count = len(f.read().splitlines())
        self.assertTrue(lines[1].startswith(f"proto/codec.cc:{count}:"), lines)

    def test_a_tree_without_proto_is_refused(self):
        result = run(os.path.join(self.copy, "bench"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("not a scorepipe source tree", result.stderr)


if __name__ == "__main__":
    unittest.main()
