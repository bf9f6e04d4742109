"""``labelgate qa agreement | gold | consensus`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from labelgate.cli.main import app
from labelgate.quality import agreement

runner = CliRunner()

# Krippendorff (2011) reliability data in wide form (units as rows, observers as columns)
WIDE = """unit,A,B,C,D
1,1,1,,1
2,2,2,3,2
3,3,3,3,3
4,3,3,3,3
5,2,2,2,2
6,1,2,3,4
7,4,4,4,4
8,1,1,2,1
9,2,2,2,2
10,,5,5,5
11,,,1,1
12,,3,,
"""


def run(*args: str) -> dict:
    result = runner.invoke(app, ["qa", *args])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_agreement_wide_form_matches_the_published_alpha(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(WIDE)
    out = run("agreement", str(path), "--metric", "krippendorff_alpha", "--level", "interval", "-m", "fleiss_kappa", "--json")
    assert out["form"] == "wide"
    assert out["units"] == 12 and out["raters"] == 4
    alpha, fleiss = out["results"]
    assert round(alpha["value"], 3) == 0.849
    assert alpha["level"] == "interval"
    assert round(fleiss["value"], 5) == 0.76117
    ordinal = run("agreement", str(path), "-m", "alpha", "--level", "ordinal", "--ci", "bootstrap", "--resamples", "200", "--json")
    assert ordinal["results"][0]["ci_method"] == "bootstrap" and round(ordinal["results"][0]["value"], 3) == 0.815
    bare = run("agreement", str(path), "-m", "fleiss", "--ci", "none", "--json")
    assert bare["results"][0]["se"] is None


def test_agreement_long_form_default_metrics(tmp_path: Path) -> None:
    rows = [("u1", "a", "cat"), ("u1", "b", "cat"), ("u2", "a", "dog"), ("u2", "b", "cat"), ("u3", "a", "dog"), ("u3", "b", "dog")]
    path = tmp_path / "long.csv"
    path.write_text("item,annotator,label\n" + "".join(f"{u},{r},{lab}\n" for u, r, lab in rows))
    out = run("agreement", str(path), "--json")
    assert out["form"] == "long"
    names = [r["metric"] for r in out["results"]]
    assert names == ["percent", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha", "cohen_kappa"]
    cohen = out["results"][-1]
    assert cohen["value"] == pytest.approx(agreement(rows, "cohen_kappa").value)
    human = runner.invoke(app, ["qa", "agreement", str(path)])
    assert human.exit_code == 0 and "cohen" in human.stdout


def test_agreement_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("unit,A,B\n1,x,y\n2,x\n")
    result = runner.invoke(app, ["qa", "agreement", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "bad.csv" in result.output
    path.write_text(WIDE)
    result = runner.invoke(app, ["qa", "agreement", str(path), "-m", "cohen_kappa"])
    assert result.exit_code == 1 and "exactly two raters" in result.output


def test_gold_command(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    gold = tmp_path / "gold.csv"
    lines = ["unit,annotator,label"] + [f"u{i},ann,{'a' if i % 4 else 'b'}" for i in range(30)] + ["u0,new,a"]
    answers.write_text("\n".join(lines) + "\n")
    gold.write_text("unit,label\n" + "".join(f"u{i},a\n" for i in range(30)))
    out = run("gold", str(answers), str(gold), "--min-samples", "10", "--threshold", "0.5", "--json")
    by = {a["annotator"]: a for a in out["annotators"]}
    assert by["ann"]["correct"] == 22 and by["ann"]["n"] == 30
    assert by["ann"]["verdict"] == "pass"
    assert by["new"]["verdict"] == "insufficient data"
    human = runner.invoke(app, ["qa", "gold", str(answers), str(gold)])
    assert human.exit_code == 0 and "insufficient data" in human.stdout


def test_consensus_command(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("unit,r1,r2,r3\n1,a,a,b\n2,a,b,\n3,b,b,b\n")
    out = run("consensus", str(path), "--method", "majority", "--tie", "abstain", "--json")
    assert [u["label"] for u in out["units"]] == ["a", None, "b"]
    ds = run("consensus", str(path), "--method", "dawid-skene", "--json")
    assert ds["method"] == "dawid-skene" and len(ds["units"]) == 3
    bad = runner.invoke(app, ["qa", "consensus", str(path), "--method", "vote"])
    assert bad.exit_code == 1 and "unknown consensus method" in bad.output
    human = runner.invoke(app, ["qa", "consensus", str(path), "--method", "dawid-skene"])
    assert human.exit_code == 0 and "converged" in human.stdout


def test_csv_reader_errors_and_typing(tmp_path: Path) -> None:
    from labelgate.core.errors import FormatError
    from labelgate.quality.agreement.csvio import read_gold_csv, read_ratings_csv

    latin = tmp_path / "latin.csv"
    latin.write_bytes("unit,A\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(FormatError, match="not UTF-8"):
        read_ratings_csv(latin)
    empty = tmp_path / "empty.csv"
    empty.write_text("unit,rater,label\n")
    with pytest.raises(FormatError, match="header row and at least one data row"):
        read_ratings_csv(empty)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("\ufeffA,B\n1,2\n3,\n2.5,1\n")
    parsed = read_ratings_csv(numbers)
    assert parsed.form == "wide"
    assert parsed.records == [("1", "A", 1.0), ("1", "B", 2.0), ("2", "A", 3.0), ("3", "A", 2.5), ("3", "B", 1.0)]
    assert read_ratings_csv(numbers, typed=False).records[0] == ("1", "A", "1")
    gold = tmp_path / "gold.csv"
    gold.write_text("item,answer\nu1,a\nu1,b\n")
    with pytest.raises(FormatError, match="two gold labels"):
        read_gold_csv(gold)
    gold.write_text("x,y\nu1,a\n")
    with pytest.raises(FormatError, match="unit column"):
        read_gold_csv(gold)
