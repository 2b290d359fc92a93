#!/usr/bin/env python3
"""The references scorepipe's training must match: Python XGBoost, and numpy.

Trains on TRAIN.csv, scores VALIDATION.csv and prints one line,
"auc <validation ROC AUC>". --algorithm xgboost (default): binary:logistic
boosted trees with the parameters given. --algorithm linear: L2-regularised
logistic regression written here in numpy (gradient descent with
backtracking on standardised features, --l2 on the standardised weights, the
bias unpenalised): another solver than scorepipe's Newton steps. Each
CSV has a header line, then one row per transaction: the features in model
column order, the 0/1 label last. The AUC is computed here with numpy
(Mann-Whitney, ties counting one half), not by xgboost or sklearn.

Used by tests/training/training_reference_test.cc; it exits non-zero (and the
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
        sys.exit("training_reference: the validation rows need both classes")
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def fit_linear(x, y, l2):
    """Weights and bias on standardised x; plain gradient descent with Armijo backtracking."""
    x = x.astype(np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0

    def loss(beta):
        m = z @ beta
        return np.logaddexp(0.0, m).sum() - y @ m + 0.5 * (penalty * beta * beta).sum()

    beta = np.zeros(z.shape[1])
    step = 1.0
    current = loss(beta)
    for _ in range(20000):
        grad = z.T @ (1.0 / (1.0 + np.exp(-(z @ beta))) - y) + penalty * beta
        if np.abs(grad).max() < 1e-6 * len(y):
            break
        step *= 2.0
        while True:
            candidate = beta - step * grad / len(y)
            value = loss(candidate)
            if value <= current - 0.5 * step * (grad @ grad) / len(y):
                break
            step /= 2.0
        beta, current = candidate, value
    return beta[:-1] / scale, beta[-1] - (beta[:-1] / scale) @ mean


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("validation")
    parser.add_argument("--algorithm", choices=["xgboost", "linear"], default="xgboost")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--max-depth", type=int, default=5)
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--nthread", type=int, default=2)
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()

    x_train, y_train = read_csv(args.train)
    x_valid, y_valid = read_csv(args.validation)
    if args.algorithm == "linear":
        weights, bias = fit_linear(x_train, y_train.astype(np.float64), args.l2)
        scores = 1.0 / (1.0 + np.exp(-(x_valid.astype(np.float64) @ weights + bias)))
        print("numpy logistic regression, weights %s, bias %r" % (weights.tolist(), bias),
              file=sys.stderr)
        print("auc %.10f" % roc_auc(scores, y_valid))
        return
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
