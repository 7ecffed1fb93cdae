#!/usr/bin/env python3
"""DCI with gradient-boosted trees, as disentanglement_lib computes it, on points VAEKit exported.

`vae disentanglement RUN --export-points FILE.csv [--votes N]` writes N + N/2 points (the five dSprites factors, then
the encoder's mean code); this fits one scikit-learn GradientBoostingClassifier per factor (default settings, as
disentanglement_lib's dci.py) on the first N, takes the absolute feature importances as the importance matrix, and
prints disentanglement, completeness and informativeness (mean test accuracy) — to check `vae disentanglement`'s own
gradient-boosted trees against scikit-learn's on the same kind of points.

    python3 benchmarks/dci_trees.py FILE.csv [--train N] [--json]
"""
import argparse
import csv
import json

import numpy as np
from scipy import stats
from sklearn.ensemble import GradientBoostingClassifier

parser = argparse.ArgumentParser()
parser.add_argument("points")
parser.add_argument("--train", type=int, default=10000, help="points used for training (the rest test); --votes of the export")
parser.add_argument("--json", action="store_true")
args = parser.parse_args()

with open(args.points) as handle:
    rows = list(csv.reader(handle))
header, values = rows[0], np.array(rows[1:], dtype=np.float64)
factor_count = sum(1 for name in header if not name.startswith("code_"))
factors, codes = values[:, :factor_count].astype(int), values[:, factor_count:]
train, test = slice(0, args.train), slice(args.train, None)

importance = np.zeros((codes.shape[1], factor_count))
accuracies = []
for factor in range(factor_count):
    model = GradientBoostingClassifier()
    model.fit(codes[train], factors[train, factor])
    importance[:, factor] = np.abs(model.feature_importances_)
    accuracies.append(np.mean(model.predict(codes[test]) == factors[test, factor]))


def weighted_one_minus_entropy(matrix):
    # Rows of `matrix` (each normalised) weighted by their share of the total, 1 − entropy in base len(row).
    per_row = 1.0 - stats.entropy(matrix.T + 1e-11, base=matrix.shape[1])
    weights = matrix.sum(axis=1) / matrix.sum() if matrix.sum() > 0 else np.ones(matrix.shape[0]) / matrix.shape[0]
    return float(np.sum(per_row * weights))


result = {"dci_disentanglement": weighted_one_minus_entropy(importance),
          "dci_completeness": weighted_one_minus_entropy(importance.T),
          "dci_informativeness": float(np.mean(accuracies)),
          "importance": importance.round(4).tolist()}
if args.json:
    print(json.dumps(result))
else:
    print("DCI with gradient-boosted trees: disentanglement %.4f, completeness %.4f, informativeness %.4f"
          % (result["dci_disentanglement"], result["dci_completeness"], result["dci_informativeness"]))
