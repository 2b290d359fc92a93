"""monitoring_check.py: its PromQL lexer finds exactly the metric names of
an expression; the checks pass on monitoring/ as it is and fail on each kind
of planted fault (an alert without a severity or a quiet case, a panel on
another datasource, a query that does not parse); and docs/operations.md
has a runbook entry for every alert, with its severity, and shows the scrape
configuration of monitoring/prometheus.yml as it is.

Usage: monitoring_check_test.py ROOT PROMTOOL   (the source tree, promtool)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

PROMTOOL = sys.argv.pop(2) if len(sys.argv) > 2 else "promtool"
ROOT = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "monitoring"))
import monitoring_check  # noqa: E402
from monitoring_check import PromQLError, metric_names  # noqa: E402

CHECK = os.path.join(ROOT, "tests", "monitoring", "monitoring_check.py")
RULES = os.path.join(ROOT, "monitoring", "alerts.yml")
RULE_TESTS = os.path.join(ROOT, "tests", "monitoring", "alerts_test.yml")
DASHBOARD = os.path.join(ROOT, "monitoring", "grafana-dashboard.json")


class MetricNamesTest(unittest.TestCase):
    def test_functions_ranges_and_comparisons(self):
        self.assertEqual(metric_names("rate(scorepipe_a_total[5m]) > 0"), ["scorepipe_a_total"])

    def test_aggregations_with_label_lists_before_or_after(self):
        self.assertEqual(
            metric_names("histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket{job=\"a\"}[5m])))"),
            ["x_seconds_bucket"])
        self.assertEqual(metric_names("sum(rate(a_total[1m])) without (instance, job)"), ["a_total"])
        self.assertEqual(metric_names("SUM BY (le) (a) / COUNT(b)"), ["a", "b"])

    def test_binary_operators_and_vector_matching(self):
        self.assertEqual(
            metric_names("a and on() b or ignoring(x, y) c unless d / on(job) group_left(version) e"),
            ["a", "b", "c", "d", "e"])
        self.assertEqual(metric_names("a > bool 3 atan2 b"), ["a", "b"])

    def test_label_matchers_hold_no_names(self):
        self.assertEqual(metric_names('up{job=~"scorepipe-.*", instance!="sum(x)", le="+Inf"} == 0'), ["up"])
        self.assertEqual(metric_names("up {job='a'}"), ["up"])

    def test_string_arguments_hold_no_names(self):
        self.assertEqual(metric_names('count_values("version", scorepipe_model_info)'), ["scorepipe_model_info"])
        self.assertEqual(metric_names('label_replace(up, "host", "$1", "instance", "(.*):.*")'), ["up"])

    def test_numbers_durations_offsets_and_subqueries(self):
        self.assertEqual(metric_names("max_over_time(a[1h:5m] offset 1h30m) * 1e-3 + 0x1f - Inf + NaN"), ["a"])
        self.assertEqual(metric_names("a @ start() + b @ 1609746000"), ["a", "b"])
        self.assertEqual(metric_names("topk(5, a) + quantile(0.9, b)"), ["a", "b"])

    def test_grafana_variables(self):
        self.assertEqual(metric_names("rate(a_total[$__rate_interval]) * ${factor} + $other"), ["a_total"])

    def test_colons_of_recorded_names_and_comments(self):
        self.assertEqual(metric_names("job:a:rate5m # a comment naming b and c\n + d"), ["job:a:rate5m", "d"])

    def test_a_name_given_as_a_matcher(self):
        self.assertEqual(metric_names('{__name__="foo", job="x"} + bar'), ["foo", "bar"])

    def test_each_name_once(self):
        self.assertEqual(metric_names("a + a + b"), ["a", "b"])

    def test_what_cannot_be_checked_is_an_error(self):
        for expr in ('{__name__=~"foo.*"}', '{job="x"}', 'up{job="x', "rate(a[5m)", "up{job}"):
            with self.subTest(expr=expr):
                with self.assertRaises(PromQLError):
                    metric_names(expr)


def run(*args):
    return subprocess.run([sys.executable, CHECK, *args], capture_output=True, text=True)


class CheckCommandsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="scorepipe-monitoring-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def copy(self, path, edit):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        changed = edit(text)
        self.assertNotEqual(changed, text, "the edit changed nothing")
        out = os.path.join(self.dir, os.path.basename(path))
        with open(out, "w", encoding="utf-8") as f:
            f.write(changed)
        return out

    def test_names_lists_the_metrics_of_the_rules_and_the_dashboard(self):
        result = run("names", RULES, DASHBOARD)
        self.assertEqual(result.returncode, 0, result.stderr)
        names = {line.split("\t")[0] for line in result.stdout.splitlines()}
        for name in ("up", "scorepipe_sink_shadow_entries_lost_total", "scorepipe_curve_refused_total",
                     "scorepipe_build_info", "scorepipe_sink_end_to_end_seconds_bucket",
                     "scorepipe_worker_heartbeat_age_seconds"):
            self.assertIn(name, names)
        for word in ("rate", "sum", "le", "job", "by", "histogram_quantile", "5m"):
            self.assertNotIn(word, names)

    def test_names_fails_on_an_expression_it_cannot_read(self):
        rules = self.copy(RULES, lambda t: t.replace("expr: scorepipe_ventilator_live_workers == 0",
                                                     'expr: \'{__name__=~"scorepipe_.*"} == 0\''))
        result = run("names", rules)
        self.assertEqual(result.returncode, 1)
        self.assertIn("alert ScorepipeNoLiveWorkers", result.stderr)

    def test_every_alert_has_a_severity_annotations_and_both_cases(self):
        result = run("rules", RULES, RULE_TESTS)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_an_alert_without_a_severity_or_a_description_fails(self):
        rules = self.copy(RULES, lambda t: t.replace("severity: info", "severity: page", 1))
        result = run("rules", rules, RULE_TESTS)
        self.assertEqual(result.returncode, 1)
        self.assertIn("ScorepipeShadowEntriesLost: severity 'page'", result.stderr)
        rules = self.copy(RULES, lambda t: t.replace("description: >-", "runbook: >-", 1))
        result = run("rules", rules, RULE_TESTS)
        self.assertIn("ScorepipeNodeDown: no description annotation", result.stderr)

    def test_an_alert_without_a_quiet_case_or_a_firing_case_fails(self):
        # ScorepipeOutputsRefused: its quiet case at 3m goes.
        tests = self.copy(RULE_TESTS, lambda t: t.replace(
            "      - eval_time: 3m\n        alertname: ScorepipeOutputsRefused\n        exp_alerts: []\n", ""))
        result = run("rules", RULES, tests)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no case where ScorepipeOutputsRefused does not fire", result.stderr)
        # A new alert that no case tests.
        rules = self.copy(RULES, lambda t: t + "      - alert: ScorepipeUntested\n        expr: up == 2\n"
                          "        labels: {severity: info}\n"
                          "        annotations: {summary: s, description: d}\n")
        result = run("rules", rules, RULE_TESTS)
        self.assertIn("no case where ScorepipeUntested fires", result.stderr)
        self.assertIn("no case where ScorepipeUntested does not fire", result.stderr)

    def test_the_dashboard_imports_anywhere_and_its_queries_parse(self):
        result = run("dashboard", DASHBOARD, PROMTOOL)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_panel_on_another_datasource_fails(self):
        dashboard = self.copy(DASHBOARD, lambda t: t.replace('"uid": "${DS_PROMETHEUS}"', '"uid": "P1809F7CD0C75ACF3"', 1))
        result = run("dashboard", dashboard, PROMTOOL)
        self.assertEqual(result.returncode, 1)
        self.assertIn("datasource", result.stderr)

    def test_a_dashboard_without_its_datasource_input_fails(self):
        dashboard = self.copy(DASHBOARD, lambda t: t.replace('"name": "DS_PROMETHEUS"', '"name": "DS_OTHER"'))
        result = run("dashboard", dashboard, PROMTOOL)
        self.assertIn("no __inputs entry DS_PROMETHEUS", result.stderr)

    def test_a_query_that_does_not_parse_fails(self):
        dashboard = self.copy(DASHBOARD, lambda t: t.replace("sum(scorepipe_ventilator_live_workers)",
                                                             "sum(scorepipe_ventilator_live_workers", 1))
        result = run("dashboard", dashboard, PROMTOOL)
        self.assertEqual(result.returncode, 1)
        self.assertIn("does not parse", result.stderr)

    def test_a_variable_the_dashboard_does_not_define_fails(self):
        dashboard = self.copy(DASHBOARD, lambda t: t.replace("[$__rate_interval]", "[$window]", 1))
        result = run("dashboard", dashboard, PROMTOOL)
        self.assertIn("a variable the dashboard does not define", result.stderr)

    def test_every_panel_and_its_queries_are_read(self):
        with open(DASHBOARD, encoding="utf-8") as f:
            dashboard = json.load(f)
        queries = sum(len(p.get("targets", [])) for p in dashboard["panels"])
        self.assertGreater(queries, 30)
        self.assertEqual(len(list(monitoring_check.dashboard_expressions(DASHBOARD))), queries)


class OperationsDocTest(unittest.TestCase):
    """docs/operations.md refers to the files and keeps what it shows of them."""

    def setUp(self):
        with open(os.path.join(ROOT, "docs", "operations.md"), encoding="utf-8") as f:
            self.doc = f.read()

    def test_every_alert_has_a_runbook_entry_with_its_severity(self):
        with open(RULES, encoding="utf-8") as f:
            rules = yaml.safe_load(f)
        alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
        self.assertGreater(len(alerts), 20)
        headings = set(re.findall(r"^### (Scorepipe\w+ \(\w+\))$", self.doc, re.MULTILINE))
        expected = {f"{r['alert']} ({r['labels']['severity']})" for r in alerts}
        self.assertEqual(headings, expected)

    def test_the_scrape_configuration_shown_is_the_file_s(self):
        blocks = re.findall(r"```yaml\n(scrape_configs:\n.*?)```", self.doc, re.DOTALL)
        self.assertEqual(len(blocks), 1, "one scrape_configs block in docs/operations.md")
        with open(os.path.join(ROOT, "monitoring", "prometheus.yml"), encoding="utf-8") as f:
            config = yaml.safe_load(f)
        self.assertEqual(yaml.safe_load(blocks[0])["scrape_configs"], config["scrape_configs"])

    def test_the_rules_are_not_copied_into_the_page(self):
        self.assertNotIn("groups:", self.doc)
        self.assertIn("monitoring/alerts.yml", self.doc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
