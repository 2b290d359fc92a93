"""The bash completion of scorepipe (packaging/scorepipe.bash-completion)
offers exactly the subcommands and flags that the programs' --help lists
(scorepipe's, each subcommand's, model's nested ones, each node program's),
so that neither drifts from the other; and it completes the values it knows
(roles, log levels, files, the registry's models and versions).

Usage: completion_test.py COMPLETION_FILE BIN_DIR"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

COMPLETION, BIN = (os.path.abspath(sys.argv.pop(1)) for _ in range(2))
NODE_PROGRAMS = ["bridge", "ventilator", "worker", "sink", "gateway", "train-demo"]


def help_of(program, *args):
    result = subprocess.run([os.path.join(BIN, program), *args, "--help"], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"{program} {' '.join(args)} --help exited with {result.returncode}: {result.stderr}")
    return result.stdout


def subcommands_in(help_text):
    """The names under "Subcommands:"."""
    if "\nSubcommands:\n" not in help_text:
        return []
    section = help_text.split("\nSubcommands:\n")[1].split("\n\n")[0]
    return re.findall(r"^  ([a-z][a-z0-9-]*)(?: |$)", section, re.M)


def flags_in(help_text):
    """Every flag under "Options:" ("-c,--config TEXT" gives -c and --config)."""
    section = help_text.split("\nOptions:\n")[1].split("\n\n")[0]
    return sorted(flag for names in re.findall(r"^  (-\S+)", section, re.M) for flag in names.split(","))


def complete(words, cwd=None, env=None):
    """What the completion offers for the command line `words`, the cursor at
    the end of its last word (sorted)."""
    script = (f"source {COMPLETION}\n"
              "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
              "COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}\n"
              "_scorepipe\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "-c", script, "bash", *words], capture_output=True, text=True, cwd=cwd,
                            env=dict(os.environ, **(env or {})))
    if result.returncode != 0:
        raise AssertionError(f"completing {words}: exit {result.returncode}: {result.stderr}")
    return sorted(line for line in result.stdout.splitlines() if line)


class CompletionTest(unittest.TestCase):
    def setUp(self):
        self.top = help_of("scorepipe")

    def test_it_offers_every_subcommand_and_node_program_and_nothing_else(self):
        subcommands = subcommands_in(self.top)
        self.assertIn("evaluate", subcommands)
        # The node programs that scorepipe runs, named in its description.
        programs = [p for line in re.findall(r"^  scorepipe (\S+) ", self.top, re.M) for p in line.split("|")]
        self.assertEqual(sorted(programs), sorted(NODE_PROGRAMS))
        self.assertEqual(complete(["scorepipe", ""]), sorted(subcommands + programs))
        self.assertEqual(complete(["scorepipe", "ev"]), ["evaluate"])

    def test_its_own_flags(self):
        self.assertEqual(complete(["scorepipe", "-"]), flags_in(self.top))

    def test_each_subcommand_offers_exactly_the_flags_its_help_lists(self):
        for subcommand in subcommands_in(self.top):
            with self.subTest(subcommand=subcommand):
                text = help_of("scorepipe", subcommand)
                self.assertEqual(complete(["scorepipe", subcommand, "-"]), flags_in(text))
                nested = subcommands_in(text)
                if nested:
                    self.assertEqual(complete(["scorepipe", subcommand, ""]), sorted(nested))
                for sub in nested:
                    with self.subTest(sub=sub):
                        self.assertEqual(complete(["scorepipe", subcommand, sub, "-"]),
                                         flags_in(help_of("scorepipe", subcommand, sub)))
        self.assertIn("shadow-report", complete(["scorepipe", "model", ""]))

    def test_each_node_program_offers_exactly_the_flags_its_help_lists(self):
        for program in NODE_PROGRAMS:
            with self.subTest(program=program):
                flags = flags_in(help_of(f"scorepipe-{program}"))
                self.assertEqual(complete(["scorepipe", program, "-"]), flags)
                self.assertEqual(complete([f"/usr/bin/scorepipe-{program}", "-"]), flags)
        self.assertIn("--id", complete(["scorepipe-worker", "--"]))

    def test_the_values_it_knows(self):
        self.assertEqual(complete(["scorepipe", "install", "--role", "w"]), ["worker"])
        self.assertEqual(complete(["scorepipe", "install", "--role", "g"]), ["gateway"])
        self.assertEqual(complete(["scorepipe", "keys", "--role", "head,s"]), ["head,sink"])
        self.assertEqual(complete(["scorepipe", "check", "--role", ""]), ["all", "gateway", "head", "worker"])
        self.assertEqual(complete(["scorepipe", "up", "-c", "x.yaml", "--log-level", "w"]), ["warn"])
        self.assertEqual(complete(["scorepipe", "train", "--algorithm", ""]), ["linear", "xgboost"])
        self.assertEqual(complete(["scorepipe", "push", "-n", ""]), [])
        with tempfile.TemporaryDirectory() as folder:
            open(os.path.join(folder, "cluster.yaml"), "w").close()
            os.mkdir(os.path.join(folder, "logs"))
            self.assertEqual(complete(["scorepipe", "status", "-c", "cl"], cwd=folder), ["cluster.yaml"])
            self.assertEqual(complete(["scorepipe", "up", "--log-dir", ""], cwd=folder), ["logs"])

    def test_the_registrys_models_and_their_versions(self):
        registry = tempfile.mkdtemp(prefix="scorepipe-completion-")
        try:
            for version in ["fraud/v1", "fraud/v2", "churn/v1"]:
                os.makedirs(os.path.join(registry, version))
            self.assertEqual(complete(["scorepipe", "model", "show", "--registry", registry, ""]),
                             ["churn", "fraud"])
            self.assertEqual(complete(["scorepipe", "model", "promote", "--registry", registry, "fraud", "v"]),
                             ["v1", "v2"])
            # --note's value is not the model's name.
            self.assertEqual(complete(["scorepipe", "model", "rollback", "--note", "x", "f"],
                                      env={"SCOREPIPE_REGISTRY": registry}), ["fraud"])
            self.assertEqual(complete(["scorepipe", "model", "rollback", "--registry", registry, "fraud", ""]), [])
        finally:
            shutil.rmtree(registry)


if __name__ == "__main__":
    unittest.main()
