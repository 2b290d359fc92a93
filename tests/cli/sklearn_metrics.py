"""Checks scorepipe's evaluation figures against scikit-learn's.

Usage: sklearn_metrics.py SCORES_CSV REPORT_JSON

SCORES_CSV is `scorepipe evaluate --scores-out` (id,score,label per scored
row); REPORT_JSON holds the evaluation as `scorepipe evaluate --json` prints it
(the last line that starts with "{"), or the bare evaluation object
(EvaluationToJson). Every figure is recomputed with sklearn.metrics and
sklearn.calibration on the same scores, with the report's threshold and number
of bins, and compared to a relative 1e-9. Prints one line per figure; exits 0
when all agree, 1 when any differs, 2 on bad input. sklearn missing is an
error (the test setup installs Debian's python3-sklearn), never a skip.
"""
import csv
import json
import math
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, confusion_matrix,
                             f1_score, log_loss, precision_score, recall_score, roc_auc_score)

REL_TOL = 1e-9
ABS_TOL = 1e-12


def read_scores(path):
    scores, labels = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            scores.append(float(row["score"]))
            labels.append(int(row["label"]))
    return np.array(scores, dtype=np.float64), np.array(labels, dtype=np.int64)


def read_evaluation(path):
    with open(path) as f:
        lines = [line for line in f if line.startswith("{")]
    report = json.loads(lines[-1])
    return report.get("evaluation", report)


class Checker:
    def __init__(self):
        self.failures = 0

    def close(self, name, ours, theirs):
        ok = ours is not None and math.isclose(ours, theirs, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        self.report(name, ok, f"scorepipe {ours!r} sklearn {float(theirs)!r}")

    def equal(self, name, ours, theirs):
        self.report(name, ours == theirs, f"scorepipe {ours!r} sklearn {theirs!r}")

    def report(self, name, ok, text):
        print(f"{'ok      ' if ok else 'MISMATCH'} {name}: {text}")
        if not ok:
            self.failures += 1


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    y_score, y_true = read_scores(sys.argv[1])
    ours = read_evaluation(sys.argv[2])
    threshold = ours["threshold"]
    bins = len(ours["calibration"])
    y_pred = (y_score >= threshold).astype(np.int64)
    check = Checker()

    check.equal("rows", ours["rows"], len(y_true))
    check.equal("positives", ours["positives"], int(y_true.sum()))
    both_classes = 0 < y_true.sum() < len(y_true)
    if both_classes:
        check.close("roc_auc", ours["roc_auc"], roc_auc_score(y_true, y_score))
    else:
        check.report("roc_auc", ours["roc_auc"] is None and "roc_auc_undefined" in ours,
                     f"one class only: scorepipe {ours['roc_auc']!r} (undefined in sklearn too)")
    if y_true.sum() > 0:
        check.close("average_precision", ours["average_precision"], average_precision_score(y_true, y_score))
    else:
        check.report("average_precision", ours["average_precision"] is None,
                     f"no positives: scorepipe {ours['average_precision']!r}")
    check.close("precision", ours["precision"], precision_score(y_true, y_pred, zero_division=0))
    check.close("recall", ours["recall"], recall_score(y_true, y_pred, zero_division=0))
    check.close("f1", ours["f1"], f1_score(y_true, y_pred, zero_division=0))
    check.close("accuracy", ours["accuracy"], accuracy_score(y_true, y_pred))
    check.close("log_loss", ours["log_loss"], log_loss(y_true, y_score, labels=[0, 1]))
    check.close("brier", ours["brier"], brier_score_loss(y_true, y_score, pos_label=1))
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel())
    c = ours["confusion"]
    check.equal("confusion", (c["true_positives"], c["false_positives"], c["true_negatives"], c["false_negatives"]),
                (tp, fp, tn, fn))

    # sklearn returns the non-empty bins only; scorepipe keeps the empty ones
    # with count 0. The counts come from sklearn's own binning rule.
    prob_true, prob_pred = calibration_curve(y_true, y_score, n_bins=bins, strategy="uniform")
    filled = [b for b in ours["calibration"] if b["count"] > 0]
    check.equal("calibration non-empty bins", len(filled), len(prob_true))
    edges = np.linspace(0.0, 1.0 + 1e-8, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], y_score), minlength=bins)
    check.equal("calibration counts", [b["count"] for b in ours["calibration"]], [int(n) for n in counts])
    for k, (b, observed, predicted) in enumerate(zip(filled, prob_true, prob_pred)):
        check.close(f"calibration[{k}].observed_rate", b["observed_rate"], observed)
        check.close(f"calibration[{k}].mean_predicted", b["mean_predicted"], predicted)

    print(f"{check.failures} mismatches")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
