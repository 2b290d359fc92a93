#!/usr/bin/env python3
"""The reference scorepipe's XGBoost training must match: Python XGBoost.

Trains binary:logistic boosted trees on TRAIN.csv with the parameters given,
scores VALIDATION.csv and prints one line, "auc <validation ROC AUC>". Each
CSV has a header line, then one row per transaction: the features in model
column order, the 0/1 label last. The AUC is computed here with numpy
(Mann-Whitney, ties counting one half), not by xgboost or sklearn.

Used by tests/worker/xgboost_reference_test.cc; it exits non-zero (and the
test fails) when the xgboost module is missing (Debian: python3-xgboost).
"""
import argparse
import sys

import numpy as np
import xgboost as xgb


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return data[:, :-1].astype(np.float32), data[:, -1].astype(np.float32)


def roc_auc(scores, labels):
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # Tied scores share the mean of their 1-based ranks.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first, counts):
        ranks[order[start:start + count]] = start + (count + 1) / 2.0
    positive = labels > 0.5
    n_pos = float(positive.sum())
    n_neg = float(len(labels)) - n_pos
    if n_pos == 0 or n_neg == 0:
        sys.exit("xgboost_reference: the validation rows need both classes")
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("validation")
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--max-depth", type=int, required=True)
    parser.add_argument("--eta", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--nthread", type=int, default=2)
    args = parser.parse_args()

    x_train, y_train = read_csv(args.train)
    x_valid, y_valid = read_csv(args.validation)
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "eval_metric": "auc",
        "max_depth": args.max_depth,
        "eta": args.eta,
        "seed": args.seed,
        "nthread": args.nthread,
    }
    train = xgb.DMatrix(x_train, label=y_train, missing=np.nan)
    valid = xgb.DMatrix(x_valid, label=y_valid, missing=np.nan)
    booster = xgb.train(params, train, num_boost_round=args.rounds)
    scores = booster.predict(valid)
    print("xgboost %s, %d train rows, %d validation rows" %
          (xgb.__version__, len(y_train), len(y_valid)), file=sys.stderr)
    print("auc %.10f" % roc_auc(scores.astype(np.float64), y_valid))


if __name__ == "__main__":
    main()
