#!/usr/bin/env python3
"""Checks of the files in monitoring/ that promtool does not make.

  monitoring_check.py names FILE...
      One line per metric that an expression of FILE names (alerting or
      recording rules, .yml; a Grafana dashboard, .json):
      NAME<TAB>FILE: WHERE. exported_metrics_test compares the names with
      what the running nodes export.
  monitoring_check.py rules RULES TESTS
      Every alert of RULES has a severity label (critical, warning or info)
      and summary and description annotations, and TESTS (promtool's unit
      tests) has a case where it fires and one where it does not.
  monitoring_check.py dashboard DASHBOARD [PROMTOOL]
      The dashboard imports anywhere: it declares the ${DS_PROMETHEUS}
      datasource input and every panel and query uses it; panel ids are
      unique; every panel has a query. Every query parses as PromQL: they go
      through `promtool check rules` as recording rules (Grafana's interval
      variables replaced by 5m).

Exit status 0 when clean, 1 with one line per problem on stderr, 2 on bad
usage.

The metric names come from a small PromQL lexer (metric_names): it skips
strings, label matchers, ranges and subqueries, numbers and durations,
Grafana variables, keywords with their label lists (by, without, on,
ignoring, group_left, group_right), aggregation operators, and function
names (any name followed by an opening parenthesis); what is left are the
metric names.
"""
import json
import os
import subprocess
import sys
import tempfile

import yaml

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
# Keywords followed by a parenthesised list of label names.
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = LABEL_LIST_KEYWORDS | {"and", "or", "unless", "offset", "bool", "atan2", "inf", "nan"}
SEVERITIES = {"critical", "warning", "info"}
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
# Grafana's own variables a query may use; each becomes this range for promtool.
GRAFANA_INTERVALS = {"$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}",
                     "$__range", "${__range}"}


class PromQLError(ValueError):
    pass


def _identifier_start(c):
    return c.isalpha() or c in "_:"


def _identifier_char(c):
    return c.isalnum() or c in "_:"


def _skip_string(expr, i):
    """The index after the string literal that opens at expr[i]."""
    quote = expr[i]
    i += 1
    while i < len(expr):
        if expr[i] == "\\" and quote != "`":
            i += 2
            continue
        if expr[i] == quote:
            return i + 1
        i += 1
    raise PromQLError(f"unterminated string at {expr[i - 1:]!r}")


def _skip_until(expr, i, closing):
    """The index after `closing`, skipping strings; expr[i] opens."""
    i += 1
    while i < len(expr):
        if expr[i] in "\"'`":
            i = _skip_string(expr, i)
            continue
        if expr[i] == closing:
            return i + 1
        i += 1
    raise PromQLError(f"no '{closing}' closes {expr!r}")


def _skip_space(expr, i):
    while i < len(expr) and expr[i].isspace():
        i += 1
    return i


def _matchers(expr, i):
    """(index after the braces at expr[i], the metric name a __name__ matcher
    gives, or None)."""
    end = _skip_until(expr, i, "}")
    body = expr[i + 1:end - 1]
    name = None
    j = 0
    while j < len(body):
        j = _skip_space(body, j)
        if j >= len(body):
            break
        start = j
        while j < len(body) and _identifier_char(body[j]):
            j += 1
        label = body[start:j]
        j = _skip_space(body, j)
        op_start = j
        while j < len(body) and body[j] in "=!~":
            j += 1
        op = body[op_start:j]
        j = _skip_space(body, j)
        if not label or not op or j >= len(body) or body[j] not in "\"'`":
            raise PromQLError(f"cannot read the label matchers {{{body}}}")
        value_end = _skip_string(body, j)
        if label == "__name__":
            if op != "=":
                raise PromQLError(f"a metric name by {op} {body[j:value_end]} cannot be checked: name it")
            name = body[j + 1:value_end - 1]
        j = _skip_space(body, value_end)
        if j < len(body) and body[j] == ",":
            j += 1
    return end, name


def metric_names(expr):
    """The metric names `expr` (PromQL) selects, in order, each once."""
    names = []
    i = 0
    last_was_name = False  # a name just read, so a following {...} is its matchers
    while i < len(expr):
        c = expr[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":  # a comment, to the end of the line
            while i < len(expr) and expr[i] != "\n":
                i += 1
            continue
        if c in "\"'`":
            i = _skip_string(expr, i)
        elif c == "{":
            i, name = _matchers(expr, i)
            if not last_was_name:
                if name is None:
                    raise PromQLError(f"a selector without a metric name cannot be checked: {expr!r}")
                names.append(name)
            last_was_name = False
            continue
        elif c == "[":  # a range or a subquery: durations and Grafana variables
            i = _skip_until(expr, i, "]")
        elif c == "$":  # a Grafana variable: ${name} or $name
            if expr.startswith("${", i):
                i = _skip_until(expr, i + 1, "}")
            else:
                i += 1
                while i < len(expr) and _identifier_char(expr[i]):
                    i += 1
        elif c.isdigit() or (c == "." and i + 1 < len(expr) and expr[i + 1].isdigit()):
            while i < len(expr) and (expr[i].isalnum() or expr[i] in "._"):
                i += 1  # 42, 0.5, 1e-3, 0x1f, 5m, 1h30m
        elif _identifier_start(c):
            start = i
            while i < len(expr) and _identifier_char(expr[i]):
                i += 1
            word = expr[start:i]
            after = _skip_space(expr, i)
            if word.lower() in LABEL_LIST_KEYWORDS:
                if after < len(expr) and expr[after] == "(":
                    i = _skip_until(expr, after, ")")
            elif word.lower() in KEYWORDS or word.lower() in AGGREGATIONS:
                pass
            elif after < len(expr) and expr[after] == "(":
                pass  # a function; its arguments are read as they come
            else:
                if word not in names:
                    names.append(word)
                last_was_name = True
                continue
        else:
            i += 1  # an operator, a parenthesis, a comma
        last_was_name = False
    return names


def _load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def rule_expressions(path):
    """(where, expression) of every rule of a Prometheus rules file."""
    for group in _load_yaml(path).get("groups", []):
        for rule in group.get("rules", []):
            kind = "alert" if "alert" in rule else "record"
            yield f"{kind} {rule.get(kind)}", str(rule["expr"])


def _panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row holds its panels


def dashboard_expressions(path):
    """(where, expression) of every query of a Grafana dashboard."""
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield f"panel {panel.get('title')!r} query {target.get('refId')}", target["expr"]


def expressions(path):
    return dashboard_expressions(path) if path.endswith(".json") else rule_expressions(path)


def names_command(paths):
    problems = []
    for path in paths:
        for where, expr in expressions(path):
            try:
                for name in metric_names(expr):
                    print(f"{name}\t{path}: {where}")
            except PromQLError as e:
                problems.append(f"{path}: {where}: {e}")
    return problems


def rules_command(rules_path, tests_path):
    problems = []
    alerts = []
    for group in _load_yaml(rules_path).get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            name = rule["alert"]
            alerts.append(name)
            severity = (rule.get("labels") or {}).get("severity")
            if severity not in SEVERITIES:
                problems.append(f"{rules_path}: {name}: severity {severity!r}; allowed: "
                                + ", ".join(sorted(SEVERITIES)))
            annotations = rule.get("annotations") or {}
            for key in ("summary", "description"):
                if not str(annotations.get(key, "")).strip():
                    problems.append(f"{rules_path}: {name}: no {key} annotation")
    fires, quiet = set(), set()
    for test in _load_yaml(tests_path).get("tests", []):
        for case in test.get("alert_rule_test", []):
            name = case.get("alertname")
            if name not in alerts:
                problems.append(f"{tests_path}: a case of {name!r}, which {rules_path} does not have")
            (fires if case.get("exp_alerts") else quiet).add(name)
    for name in alerts:
        if name not in fires:
            problems.append(f"{tests_path}: no case where {name} fires")
        if name not in quiet:
            problems.append(f"{tests_path}: no case where {name} does not fire")
    return problems


def dashboard_command(path, promtool="promtool"):
    problems = []
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    inputs = [i for i in dashboard.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    if not inputs or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "prometheus":
        problems.append(f"{path}: no __inputs entry DS_PROMETHEUS (type datasource, pluginId prometheus)")
    for key in ("title", "uid"):
        if not dashboard.get(key):
            problems.append(f"{path}: no {key}")
    ids = set()
    rules = []
    for panel in _panels(dashboard):
        title = panel.get("title")
        if panel.get("id") in ids:
            problems.append(f"{path}: panel {title!r}: id {panel.get('id')} used twice")
        ids.add(panel.get("id"))
        if panel.get("type") == "row":
            continue
        if panel.get("datasource") != DATASOURCE:
            problems.append(f"{path}: panel {title!r}: datasource {panel.get('datasource')}, not {DATASOURCE}")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{path}: panel {title!r}: no query")
        for target in targets:
            where = f"panel {title!r} query {target.get('refId')}"
            if target.get("datasource", DATASOURCE) != DATASOURCE:
                problems.append(f"{path}: {where}: datasource {target.get('datasource')}, not {DATASOURCE}")
            expr = target.get("expr", "")
            if not expr.strip():
                problems.append(f"{path}: {where}: no expression")
                continue
            for variable in sorted(GRAFANA_INTERVALS, key=len, reverse=True):
                expr = expr.replace(variable, "5m")
            if "$" in expr:
                problems.append(f"{path}: {where}: a variable the dashboard does not define: {target['expr']!r}")
                continue
            rules.append({"record": f"dashboard:query_{len(rules)}", "expr": expr,
                          "labels": {"where": where}})
    if rules:
        with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="dashboard-queries-") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
            f.flush()
            checked = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
            if checked.returncode != 0:
                problems.append(f"{path}: a query does not parse (promtool check rules on them, record "
                                f"dashboard:query_N is the Nth query):\n{checked.stdout}{checked.stderr}")
    return problems


def main(argv):
    if len(argv) >= 2 and argv[0] == "names":
        problems = names_command(argv[1:])
    elif len(argv) == 3 and argv[0] == "rules":
        problems = rules_command(argv[1], argv[2])
    elif len(argv) in (2, 3) and argv[0] == "dashboard":
        problems = dashboard_command(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
