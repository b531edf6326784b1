"""Time `leadbase evaluate` on a generated CSV (default 50,000 rows x 20 columns).

    python -m bench.evaluate_csv [--rows 50000] [--folds 5] [--keep FILE.csv]

The data: 12 numeric columns (normal and log-normal, 10 % missing; six carry signal), 7
categorical ones of 5 to 1,000 values (four carry signal) and the 0/1 target. The CSV is read
by `read_csv` and measured by `evaluate`, as the command does; prints one JSON object with the
time of each phase and the process's peak memory. No database.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from leadbase.scoring_engine.learn import evaluate, read_csv

CARDINALITIES = (5, 20, 300, 8, 3, 50, 1000)


def write_csv(path: Path, rows: int, seed: int = 0) -> float:
    """Write the data set; returns its positive rate."""
    rng = np.random.default_rng(seed)
    columns: dict[str, list[str]] = {}
    z = np.zeros(rows)
    for j in range(12):
        x = rng.lognormal(0, 1, rows) if j % 2 else rng.normal(size=rows)
        missing = rng.random(rows) < 0.1
        z += (0.3 if j < 6 else 0.0) * np.where(missing, 0.0, np.log1p(np.abs(x)))
        columns[f"num{j}"] = ["" if m else f"{v:.4f}" for v, m in zip(x, missing, strict=True)]
    for j, k in enumerate(CARDINALITIES):
        codes = rng.integers(0, k, rows)
        if j < 4:
            z += (rng.normal(size=k) * 0.4)[codes]
        columns[f"cat{j}"] = [f"v{c}" for c in codes]
    y = (rng.random(rows) < 1 / (1 + np.exp(-(z - z.mean() - 1.0)))).astype(int)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, "converted"])
        for i in range(rows):
            writer.writerow([*(values[i] for values in columns.values()), str(y[i])])
    return float(y.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the CSV here (default: a temp file)")
    args = parser.parse_args()
    path = args.keep or Path(tempfile.mkdtemp(prefix="leadbase-evaluate-")) / "leads.csv"
    started = time.perf_counter()
    rate = write_csv(path, args.rows)
    written = time.perf_counter()
    table = read_csv(path)
    read = time.perf_counter()
    result = evaluate(table, target="converted", folds=args.folds)
    done = time.perf_counter()
    report = {
        "rows": args.rows,
        "columns": len(table) - 1,
        "positive_rate": round(rate, 4),
        "write_s": round(written - started, 2),
        "read_csv_s": round(read - written, 2),
        "evaluate_s": round(done - read, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "chosen": result["chosen"],
        "roc_auc": {name: m["roc_auc"] for name, m in result["models"].items()}
        | {"chosen": result["chosen_metrics"]["roc_auc"]},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
