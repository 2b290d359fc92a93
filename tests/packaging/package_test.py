"""The Debian package (packaging/), made by cpack from this build tree's
programs and man pages: what it holds (dpkg-deb -c), its control data
(dpkg-deb -I), lintian, its units under systemd-analyze verify, its bash
completion as bash-completion loads it, and its maintainer scripts, run with
stand-ins that record the commands they call.

Usage: package_test.py SOURCE_DIR BUILD_DIR CPACK"""
import glob
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

SOURCE, BUILD, CPACK = (os.path.abspath(sys.argv.pop(1)) for _ in range(3))
PROGRAMS = ["scorepipe", "scorepipe-bridge", "scorepipe-ventilator", "scorepipe-worker", "scorepipe-sink",
            "scorepipe-gateway", "scorepipe-train-demo"]


def run(argv, **kwargs):
    """argv's output; a failure fails the test with what it printed."""
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


def pkg_config_systemd(variable):
    return run(["pkg-config", "systemd", f"--variable={variable}"]).strip().lstrip("/")


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(scorepipe VERSION (\S+)", f.read()).group(1)


UNIT_DIR = pkg_config_systemd("systemdsystemunitdir")  # lib/systemd/system on Debian 12
SYSUSERS_DIR = pkg_config_systemd("sysusersdir")


class Package:
    """The package, made once: its path, its listing, its files extracted
    under `root` and its control files under `control`."""
    work = None

    @classmethod
    def make(cls):
        cls.work = tempfile.mkdtemp(prefix="scorepipe-package-")
        run([CPACK, "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", cls.work])
        debs = glob.glob(os.path.join(cls.work, "scorepipe_*.deb"))
        if len(debs) != 1:
            raise AssertionError(f"cpack made {debs}, not one scorepipe_*.deb")
        cls.deb = debs[0]
        cls.listing = {}  # path without the leading "./" -> (mode string, owner, link target)
        for line in run(["dpkg-deb", "-c", cls.deb]).splitlines():
            fields = line.split(None, 5)
            path, _, target = fields[5].partition(" -> ")
            cls.listing[path[2:].rstrip("/")] = (fields[0], fields[1], target)
        cls.root = os.path.join(cls.work, "root")
        cls.control = os.path.join(cls.work, "control")
        run(["dpkg-deb", "-x", cls.deb, cls.root])
        run(["dpkg-deb", "-e", cls.deb, cls.control])

    @classmethod
    def field(cls, name):
        return run(["dpkg-deb", "-f", cls.deb, name]).strip()

    @classmethod
    def units(cls):
        """The unit files the package ships (the drop-in apart)."""
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(cls.root, UNIT_DIR, "scorepipe*"))
                      if not p.endswith(".d"))


def setUpModule():
    Package.make()


def tearDownModule():
    if Package.work:
        shutil.rmtree(Package.work)


class ContentsTest(unittest.TestCase):
    def assertShips(self, path, mode=None):
        self.assertTrue(path in Package.listing, f"the package lacks /{path}")
        if mode:
            self.assertEqual(Package.listing[path][0], mode, path)

    def test_every_program_is_in_usr_bin_and_nothing_else_is(self):
        for program in PROGRAMS:
            self.assertShips(f"usr/bin/{program}", "-rwxr-xr-x")
        shipped = sorted(p for p in Package.listing if p.startswith("usr/bin/"))
        self.assertEqual(shipped, sorted(f"usr/bin/{p}" for p in PROGRAMS))

    def test_every_unit_of_the_systemd_folder_is_shipped(self):
        systemd = os.path.join(SOURCE, "systemd")
        shipped_units = []
        for directory, _, files in os.walk(systemd):
            for name in files:
                relative = os.path.relpath(os.path.join(directory, name), systemd)
                if not relative.startswith("sysusers.d/"):
                    shipped_units.append(relative)
                    self.assertShips(f"{UNIT_DIR}/{relative}", "-rw-r--r--")
        self.assertIn("scorepipe-.service.d/10-scorepipe.conf", shipped_units)
        self.assertIn("scorepipe-worker@.service", shipped_units)
        self.assertIn("scorepipe-gateway.service", shipped_units)

    def test_the_sysusers_logrotate_and_completion_files(self):
        self.assertShips(f"{SYSUSERS_DIR}/scorepipe.conf", "-rw-r--r--")
        self.assertShips("etc/logrotate.d/scorepipe", "-rw-r--r--")
        self.assertShips("etc/scorepipe")
        self.assertShips("usr/share/bash-completion/completions/scorepipe", "-rw-r--r--")
        for program in PROGRAMS[1:]:
            self.assertEqual(Package.listing[f"usr/share/bash-completion/completions/{program}"][2], "scorepipe")
        with open(os.path.join(SOURCE, "packaging", "scorepipe.bash-completion")) as source, \
                open(os.path.join(Package.root, "usr/share/bash-completion/completions/scorepipe")) as shipped:
            self.assertEqual(shipped.read(), source.read())

    def test_a_man_page_for_every_program(self):
        for program in PROGRAMS:
            self.assertShips(f"usr/share/man/man1/{program}.1.gz", "-rw-r--r--")
            with gzip.open(os.path.join(Package.root, f"usr/share/man/man1/{program}.1.gz"), "rt") as page:
                text = page.read()
            self.assertRegex(text, r'\n\.SH NAME\n' + re.escape(program) + r' \\- \w')
            # Its version: the program's --version, or the project's.
            self.assertRegex(text, rf'\n\.TH {re.escape(program.upper())} "1" "[^"]+" '
                                   rf'"{re.escape(program)} {re.escape(project_version())}[ "]')
            self.assertIn(".SH OPTIONS", text)

    def test_the_scorepipe_man_page_holds_the_help_of_every_subcommand(self):
        with gzip.open(os.path.join(Package.root, "usr/share/man/man1/scorepipe.1.gz"), "rt") as page:
            text = page.read()
        help_text = run([os.path.join(BUILD, "bin", "scorepipe"), "--help"])
        subcommands = re.findall(r"^  ([a-z][a-z-]*) ", help_text.split("Subcommands:")[1], re.M)
        self.assertIn("install", subcommands)
        for subcommand in subcommands:
            self.assertIn(f'.SS "scorepipe {subcommand}"\n.nf\n', text)
        self.assertIn('.SS "scorepipe model promote"', text)

    def test_it_holds_what_scorepipe_install_writes_for_prefix_usr(self):
        # Staged by the install of this build, for every role: each file at
        # the same path with the same contents (the programs apart: cpack
        # strips them), but the units in the distribution's unit folder,
        # since /etc/systemd/system is the administrator's, and no topology
        # or model in /etc/scorepipe, which the operator writes.
        staged = os.path.join(Package.work, "install-root")
        os.mkdir(staged)
        run([os.path.join(BUILD, "bin", "scorepipe"), "install", "--role", "all", "--prefix", "/usr", "--root",
             staged, "--no-user", "-c", os.path.join(SOURCE, "config", "local.yaml")])
        compared = 0
        for directory, _, files in os.walk(staged):
            for name in files:
                path = os.path.relpath(os.path.join(directory, name), staged)
                if path.startswith("etc/scorepipe/"):
                    continue
                packaged = path.replace("etc/systemd/system/", UNIT_DIR + "/")
                self.assertShips(packaged)
                compared += 1
                if path.startswith("usr/bin/"):
                    continue
                with open(os.path.join(staged, path), "rb") as a, open(os.path.join(Package.root, packaged), "rb") as b:
                    self.assertEqual(a.read(), b.read(), f"/{packaged} differs from what install writes to /{path}")
        self.assertGreaterEqual(compared, 15)

    def test_the_docs_copyright_and_changelog(self):
        doc = "usr/share/doc/scorepipe"
        for name in ["README.md", "docs/operations.md", "docs/gateway.md", "copyright", "changelog.Debian.gz"]:
            self.assertShips(f"{doc}/{name}", "-rw-r--r--")
        with open(os.path.join(Package.root, doc, "changelog.Debian.gz"), "rb") as f:
            header = f.read(10)
        # gzip -9n: no file name, no time stamp (reproducible), best compression.
        self.assertEqual(header[:3], b"\x1f\x8b\x08")
        self.assertEqual(header[3] & 0x08, 0, "the changelog's gzip header holds a file name")
        self.assertEqual(header[4:8], b"\0\0\0\0", "the changelog's gzip header holds a time")
        self.assertEqual(header[8], 2, "not compressed with -9")

    def test_the_example_topologies_find_the_demo_model_they_name(self):
        for example in ["local.yaml", "cluster.example.yaml"]:
            path = os.path.join(Package.root, "usr/share/scorepipe/config", example)
            with open(path) as f:
                named = re.findall(r"^  (?:path|features): (\S+)", f.read(), re.M)
            self.assertEqual(len(named), 2, example)
            for relative in named:
                self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(path), relative)), f"{example}: {relative}")

    def test_the_monitoring_files(self):
        shipped = sorted(p for p in Package.listing if p.startswith("usr/share/scorepipe/monitoring/"))
        expected = sorted(f"usr/share/scorepipe/monitoring/{name}"
                          for name in os.listdir(os.path.join(SOURCE, "monitoring")))
        self.assertEqual(shipped, expected)
        self.assertIn("usr/share/scorepipe/monitoring/alerts.yml", shipped)  # prometheus.yml's rule_files

    def test_nothing_under_usr_local_or_the_administrators_unit_folder(self):
        for path in Package.listing:
            self.assertFalse(path.startswith("usr/local"), path)
            self.assertFalse(path.startswith("etc/systemd"), path)

    def test_every_file_belongs_to_root(self):
        for path, (_, owner, _) in Package.listing.items():
            self.assertEqual(owner, "root/root", path)


class ControlTest(unittest.TestCase):
    def test_the_version_is_the_projects_with_the_changelogs_revision(self):
        project = project_version()
        with gzip.open(os.path.join(Package.root, "usr/share/doc/scorepipe/changelog.Debian.gz"), "rt") as f:
            newest = re.match(r"scorepipe \(([^)]+)\) ", f.readline()).group(1)
        version = Package.field("Version")
        self.assertEqual(version, newest)
        self.assertRegex(version, "^" + re.escape(project) + r"-\d+$")
        self.assertEqual(Package.field("Package"), "scorepipe")
        self.assertEqual(Package.field("Architecture"), run(["dpkg", "--print-architecture"]).strip())
        self.assertTrue(Package.deb.endswith(f"/scorepipe_{version}_{Package.field('Architecture')}.deb"))

    def test_depends_names_the_package_of_every_library_the_programs_load(self):
        depends = Package.field("Depends")
        names = {alternative.split()[0] for item in depends.split(",") for alternative in item.split("|")}
        # A package that provides one of those names satisfies it too
        # (libspdlog1.10 provides libspdlog1.10-fmt9).
        def provided_by(package):
            fields = run(["dpkg-query", "-W", "-f", "${Package} ${Provides}", package])
            return {name.strip().split()[0] for name in fields.replace(",", " ").split() if name.strip()}
        self.assertIn("systemd | systemd-standalone-sysusers", depends)  # postinst runs systemd-sysusers
        self.assertIn("procps", names)  # the logrotate file runs pkill
        for program in PROGRAMS:
            dump = run(["objdump", "-p", os.path.join(Package.root, "usr/bin", program)])
            for library in re.findall(r"^\s+NEEDED\s+(\S+)$", dump, re.M):
                owners = run(["dpkg", "-S", f"*/{library}"])
                packages = {line.split(":")[0] for line in owners.splitlines()}
                satisfying = set().union(*(provided_by(p) for p in packages))
                self.assertTrue(satisfying & names, f"{program} loads {library} ({packages}); Depends: {depends}")
        self.assertIn("libzmq5", names)
        self.assertIn("libxgboost0", names)

    def test_the_maintainer_scripts_and_the_conffiles(self):
        info = run(["dpkg-deb", "-I", Package.deb])
        for script in ["postinst", "prerm", "postrm"]:
            self.assertRegex(info, rf"\n\s+\d+ bytes,\s+\d+ lines\s+\*\s+{script}\s+#!/bin/sh\n")
            mode = os.stat(os.path.join(Package.control, script)).st_mode
            self.assertEqual(stat.S_IMODE(mode), 0o755, script)
        with open(os.path.join(Package.control, "conffiles")) as f:
            conffiles = f.read().split()
        in_etc = sorted("/" + p for p, (mode, _, _) in Package.listing.items()
                        if p.startswith("etc/") and not mode.startswith("d"))
        self.assertEqual(sorted(conffiles), in_etc)
        self.assertEqual(conffiles, ["/etc/logrotate.d/scorepipe"])


class LintianTest(unittest.TestCase):
    def test_lintian_finds_no_error_and_no_warning_the_overrides_do_not_explain(self):
        # The shipped overrides (packaging/lintian-overrides) say why each
        # warning they hide is one; one that no longer matches is reported.
        # Information tags are shown, not failed: hardening-no-bindnow and
        # hardening-no-fortify-functions (this tree is built without Debian's
        # hardening flags; scripts/package.sh builds with them),
        # binary-has-unneeded-section (cpack strips symbols, not .comment),
        # package-supports-alternative-init-but-no-init.d-script (systemd
        # only), systemd-service-file-missing-documentation-key (the units'
        # Documentation= and hardening are in their shared drop-in, which
        # lintian does not read) and spelling-error-in-binary (string
        # literals the compiler merged).
        # Every level shown (an unused override is only shown so), errors and
        # warnings fail.
        result = subprocess.run(["lintian", "--display-level", ">=pedantic", "--fail-on", "error,warning",
                                 Package.deb], capture_output=True, text=True)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, output)
        self.assertIsNone(re.search(r"^[EW]: ", output, re.M), output)
        self.assertNotIn("unused-override", output)
        self.assertNotIn("mismatched-override", output)


class UnitsTest(unittest.TestCase):
    def unit_text(self, name):
        with open(os.path.join(Package.root, UNIT_DIR, name)) as f:
            return f.read()

    def test_the_units_run_the_packaged_programs_and_link_the_packaged_readme(self):
        names = Package.units() + ["scorepipe-.service.d/10-scorepipe.conf"]
        self.assertEqual(len(names), 7, names)
        for name in names:
            text = self.unit_text(name)
            self.assertNotIn("/usr/local", text, name)
            for program in re.findall(r"^Exec\w+=[-+!@:]*(\S+)", text, re.M):
                path = os.path.join(Package.root, program.lstrip("/"))
                self.assertTrue(os.access(path, os.X_OK), f"{name}: {program} is not in the package")
            for document in re.findall(r"^Documentation=file://(\S+)", text, re.M):
                self.assertTrue(os.path.isfile(os.path.join(Package.root, document.lstrip("/"))), document)

    def test_the_units_pass_systemd_analyze_verify(self):
        # The host's own units (network-online.target, ...) beside the
        # package's, as on a host.
        host_units = os.path.join(Package.root, "usr/lib/systemd/system")
        os.makedirs(os.path.dirname(host_units), exist_ok=True)
        if not os.path.lexists(host_units):
            os.symlink("/lib/systemd/system", host_units)
        instances = [u.replace("@.", "@1.") for u in Package.units()]
        result = subprocess.run(["systemd-analyze", "verify", f"--root={Package.root}"] + instances,
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout + result.stderr, "", "warnings count as failures")


class CompletionTest(unittest.TestCase):
    def loaded(self, command):
        """How bash-completion completes `command` once it has loaded the
        package's file for it, found by the command's name, and what that
        offers for `scorepipe up --c` or `<node program> --hel`."""
        words = f"{command} up --c" if command == "scorepipe" else f"{command} --hel"
        script = ("source /usr/share/bash-completion/bash_completion; "
                  f"__load_completion {command} && complete -p {command} && "
                  f"COMP_WORDS=({words}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && _scorepipe && "
                  "echo \"${COMPREPLY[@]}\"")
        env = dict(os.environ, BASH_COMPLETION_USER_DIR=os.path.join(Package.root, "usr/share/bash-completion"))
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env).stdout.strip()

    def test_bash_completion_loads_it_for_every_program(self):
        self.assertEqual(self.loaded("scorepipe"), "complete -F _scorepipe scorepipe\n--config")
        for program in PROGRAMS[1:]:
            self.assertEqual(self.loaded(program), f"complete -F _scorepipe {program}\n--help")
        self.assertEqual(self.loaded("scorepipe-nothing"), "")


class LogrotateTest(unittest.TestCase):
    def test_logrotate_reads_the_file(self):
        state = os.path.join(Package.work, "logrotate.state")
        config = os.path.join(Package.root, "etc/logrotate.d/scorepipe")
        def check(path):
            """logrotate's exit code and its errors (it skips a line it does
            not know with an error, and exits 0)."""
            result = subprocess.run(["logrotate", "--debug", "--state", state, path], capture_output=True, text=True)
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            return result.returncode, errors, result.stderr

        # The file is the one docs/operations.md shows.
        with open(os.path.join(SOURCE, "docs", "operations.md")) as f:
            shown = re.search(r"```\n(/var/log/scorepipe/\*\.log \{\n.*?\n\})\n```", f.read(), re.S).group(1)
        with open(config) as f:
            stanza = "".join(line for line in f if not line.startswith("#")).strip()
        self.assertEqual(stanza, shown)

        code, errors, output = check(config)
        self.assertEqual((code, errors), (0, []), output)
        self.assertIn("rotating pattern: /var/log/scorepipe/*.log", output)
        # It can fail: a word logrotate does not know, a value it refuses.
        with open(config) as f:
            text = f.read()
        self.assertIn("postrotate", text)
        for wrong in [text.replace("daily", "dayly"), text.replace("rotate 14", "rotate fourteen")]:
            broken = os.path.join(Package.work, "broken.logrotate")
            with open(broken, "w") as f:
                f.write(wrong)
            code, errors, output = check(broken)
            self.assertTrue(code != 0 or errors, output)


class MaintainerScriptsTest(unittest.TestCase):
    """Each script runs in a private mount namespace whose /run says whether
    systemd runs (/run/systemd/system), with stand-ins for the commands it
    calls that record their arguments."""

    @classmethod
    def setUpClass(cls):
        # As the fault tests do without network namespaces: not as root, or
        # in a container that forbids them, these tests cannot run.
        probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "true"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            raise unittest.SkipTest(f"cannot make mount namespaces here: {probe.stderr.strip()}")

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="scorepipe-maintscripts-")
        self.log = os.path.join(self.work, "calls.log")
        self.stubs = os.path.join(self.work, "bin")
        os.mkdir(self.stubs)
        for command in ["systemd-sysusers", "deb-systemd-helper", "deb-systemd-invoke", "systemctl"]:
            path = os.path.join(self.stubs, command)
            with open(path, "w") as f:
                f.write('#!/bin/sh\necho "${0##*/} $*" >> "$CALLS"\n'
                        'case " $FAIL " in *" ${0##*/} "*) exit 1 ;; esac\nexit 0\n')
            os.chmod(path, 0o755)

    def tearDown(self):
        shutil.rmtree(self.work)

    def run_script(self, script, *args, systemd=True, fail=(), dpkg_root=None):
        """(exit code, the commands it called, one string each)."""
        if os.path.exists(self.log):
            os.remove(self.log)
        env = {"PATH": f"{self.stubs}:/usr/sbin:/usr/bin:/sbin:/bin", "CALLS": self.log, "FAIL": " ".join(fail)}
        if dpkg_root:
            env["DPKG_ROOT"] = dpkg_root
        setup = "mount -t tmpfs tmpfs /run" + (" && mkdir -p /run/systemd/system" if systemd else "")
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                 f'{setup} && exec sh "$0" "$@"', os.path.join(Package.control, script)] +
                                list(args), capture_output=True, text=True, env=env)
        calls = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                calls = f.read().splitlines()
        return result.returncode, calls

    def enabled_units(self):
        """The units a host enables by name: all but the worker's template."""
        return [u for u in Package.units() if "@" not in u]

    def update_states(self, calls):
        """The units whose links the calls recorded, and the other calls."""
        prefix = "deb-systemd-helper update-state "
        return (sorted(c[len(prefix):] for c in calls if c.startswith(prefix)),
                [c for c in calls if not c.startswith(prefix)])

    def test_a_first_install_creates_the_user_and_enables_and_starts_nothing(self):
        code, calls = self.run_script("postinst", "configure", "")
        self.assertEqual(code, 0)
        recorded, others = self.update_states(calls)
        self.assertEqual(recorded, self.enabled_units())
        self.assertEqual(len(recorded), 5)
        self.assertEqual(others, ["systemd-sysusers scorepipe.conf", "systemctl --system daemon-reload"])

    def test_without_systemd_running_it_only_creates_the_user_and_records_the_units(self):
        code, calls = self.run_script("postinst", "configure", "", systemd=False)
        self.assertEqual(code, 0)
        recorded, others = self.update_states(calls)
        self.assertEqual(recorded, self.enabled_units())
        self.assertEqual(others, ["systemd-sysusers scorepipe.conf"])

    def test_an_upgrade_restarts_the_nodes_that_run_and_no_other(self):
        code, calls = self.run_script("postinst", "configure", "0.0.9-1")
        self.assertEqual(code, 0)
        self.assertEqual(calls[-2:], ["systemctl --system daemon-reload",
                                      "deb-systemd-invoke try-restart scorepipe-*.service"])

    def test_the_user_is_created_under_dpkg_root(self):
        code, calls = self.run_script("postinst", "configure", "", dpkg_root=self.work)
        self.assertEqual(code, 0)
        self.assertEqual(calls[0], f"systemd-sysusers --root={self.work} scorepipe.conf")
        self.assertNotIn("systemctl --system daemon-reload", calls)

    def test_a_user_that_cannot_be_created_fails_the_install_and_systemctl_does_not(self):
        code, _ = self.run_script("postinst", "configure", "", fail=["systemd-sysusers"])
        self.assertNotEqual(code, 0)
        code, calls = self.run_script("postinst", "configure", "0.0.9-1",
                                      fail=["systemctl", "deb-systemd-helper", "deb-systemd-invoke"])
        self.assertEqual(code, 0)
        self.assertIn("deb-systemd-invoke try-restart scorepipe-*.service", calls)

    def test_removal_stops_every_node_and_an_upgrade_does_not(self):
        code, calls = self.run_script("prerm", "remove")
        self.assertEqual((code, calls), (0, ["deb-systemd-invoke stop scorepipe.target scorepipe-*.service"]))
        code, calls = self.run_script("prerm", "upgrade", "0.2.0-1")
        self.assertEqual((code, calls), (0, []))
        code, calls = self.run_script("prerm", "remove", systemd=False)
        self.assertEqual((code, calls), (0, []))

    def test_after_removal_systemd_forgets_the_units(self):
        code, calls = self.run_script("postrm", "remove")
        self.assertEqual((code, calls), (0, ["systemctl --system daemon-reload"]))

    def test_purge_removes_the_links_that_enabled_the_units_and_only_those(self):
        system = os.path.join(self.work, "etc/systemd/system")
        wants = os.path.join(system, "scorepipe.target.wants")
        os.makedirs(wants)
        os.makedirs(os.path.join(system, "multi-user.target.wants"))
        for instance in ["scorepipe-worker@1.service", "scorepipe-worker@2.service"]:
            os.symlink("/lib/systemd/system/scorepipe-worker@.service", os.path.join(wants, instance))
        other = os.path.join(system, "multi-user.target.wants/ssh.service")
        os.symlink("/lib/systemd/system/ssh.service", other)

        code, calls = self.run_script("postrm", "purge", dpkg_root=self.work)
        self.assertEqual(code, 0)
        self.assertEqual(len(calls), 1, calls)
        self.assertTrue(calls[0].startswith("deb-systemd-helper purge "), calls)
        self.assertEqual(sorted(calls[0].split()[2:]), self.enabled_units())
        self.assertFalse(os.path.lexists(wants))
        self.assertTrue(os.path.lexists(other))


if __name__ == "__main__":
    unittest.main()
