"""`leadbase evaluate`: one JSON object on stdout with --json, a table without, and errors that
say what to fix. No database is touched (no `db` fixture)."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.scoring_engine.learn.conftest import leads


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    table, y, _ = leads(160, seed=8)
    path = tmp_path / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", *table, "Converted"])
        for i in range(160):
            writer.writerow([f"x{i}", *(table[name][i] for name in table), str(y[i])])
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_one_object_with_every_model(data_file: Path) -> None:
    out = run("--data", str(data_file), "--target", "Converted", "--drop", "id", "--folds", "2",
              "--json")  # fmt: skip
    result = json.loads(out)  # fails if anything else was printed
    assert result["rows"] == 160
    assert set(result["models"]) == {"gbm", "logistic", "naive_bayes"}
    assert result["skipped"]["id"] == "dropped by --drop"
    assert result["models"]["gbm"]["n"] == 160


def test_table_output_names_models_and_metrics(data_file: Path) -> None:
    out = run("--data", str(data_file), "--target", "Converted", "--folds", "2", "--seed", "3")
    assert "160 rows" in out and "ROC AUC" in out and "naive_bayes" in out
    assert "chosen:" in out
    assert "identifier: unique per row" in out  # the id column, skipped on its own


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "Outcome"], "no column named 'Outcome'; the columns are: 'id'"),
        (["--target", "channel"], "pass the value that means converted with --positive"),
        (["--target", "Converted", "--positive", "won"], "'won' does not occur"),
        (["--target", "Converted", "--time-column", "visits"], "holds no date or time"),
    ],
)
def test_errors_say_what_to_fix(data_file: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("--data", str(data_file), *args)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"nothing\.csv: no such file"):
        run("--data", str(tmp_path / "nothing.csv"), "--target", "x")


def test_json_errors_are_json_too(tmp_path: Path) -> None:
    out = StringIO()
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CommandError, match="empty"):
        call_command("evaluate", "--data", str(tmp_path / "empty.csv"), "--target", "x",
                     "--json", stdout=out)  # fmt: skip
    assert "empty" in json.loads(out.getvalue())["error"]


def test_a_suspiciously_good_result_points_at_a_leak(tmp_path: Path) -> None:
    table, y, _ = leads(200, seed=9)
    path = tmp_path / "leaky.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["visits", "status_note", "won"])
        for i in range(200):
            writer.writerow([table["visits"][i], "closed" if y[i] else "ringing", str(y[i])])
    out = run("--data", str(path), "--target", "won", "--folds", "2")
    assert "leaks the outcome" in out
