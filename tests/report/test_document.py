"""The HTML report as a document: its tables' numbers, escaping, self-containedness."""

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from reglab.errors import ReglabError
from reglab.report import render_report, write_report

EVIL = "<img src=x onerror=alert(1)>"


class _Tables(HTMLParser):
    """Collects the text of every cell of every table, by the table's id."""

    def __init__(self):
        super().__init__()
        self.tables, self.srcs, self.hrefs, self.tags = {}, [], [], set()
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if "src" in attrs:
            self.srcs.append(attrs["src"])
        if "href" in attrs:
            self.hrefs.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def body_rows(parsed, table_id):
    return parsed.tables[table_id][1:]  # the first row is the header


def test_retrospective_table_stops_where_counted_by_hand(tiny_study):
    # VAL_LOSS = 1.0 .8 .7 .72 .69 .71 .73 ...: improvements at epochs 2, 3, 5, none after.
    # patience 1 stops at 4 keeping 3; patience 2 waits 6, 7 after epoch 5 and stops at 7;
    # patience 5 stops at 10; 10 and 20 never stop in 12 epochs and keep epoch 5.
    # Kept scores: mean over seeds 0-2 of val_accuracy, (0.66 + 0.01 s) at epoch 3,
    # (0.70 + 0.01 s) at epoch 5, (0.665 + 0.01 s) at the end.
    expected = {1: ("4.0", "3.0", "67.00"), 2: ("7.0", "5.0", "71.00"),
                5: ("10.0", "5.0", "71.00"), 10: ("12.0", "5.0", "71.00"),
                20: ("12.0", "5.0", "71.00")}  # fmt: skip
    rows = body_rows(parse(render_report(tiny_study)), "retrospective-table")
    baseline = {int(r[1]): (r[4], r[6], r[7]) for r in rows if r[0] == "baseline" and r[2] == "0"}
    assert baseline == expected
    assert {r[8] for r in rows if r[0] == "baseline"} == {"67.50"}


def test_retrospective_leaves_out_runs_stopped_early(tiny_study):
    stopped = [dataclasses.replace(r, stopped_epoch=8) if r.variant == "baseline" else r
               for r in tiny_study.runs]  # fmt: skip
    rows = body_rows(parse(render_report(dataclasses.replace(tiny_study, runs=stopped))),
                     "retrospective-table")  # fmt: skip
    assert {r[0] for r in rows} == {"l2 0.01"}


def test_summary_table_shows_the_stored_numbers_in_points(tiny_study, finals):
    rows = {r[0]: r for r in body_rows(parse(render_report(tiny_study)), "summary-table")}
    tests = [100 * t for _, t in finals["baseline"]]
    # conftest: the validation rows score 2 points below the test set
    assert rows["baseline"][3].startswith(f"{sum(tests) / 3 - 2.0:.2f} ± ")
    assert rows["baseline"][4].startswith(f"{sum(tests) / 3:.2f} ± ")
    assert rows["l2 0.01"][1] == "4"
    assert rows["l2 0.01"][9] == "1 of 4"  # diverged
    assert rows["l2 0.01"][8] == "25.0%"  # zero weights


def test_best_test_and_smallest_gap_cells_are_highlighted(tiny_study):
    html = render_report(tiny_study)
    marked = re.findall(r'<td class="num marked" data-column="(\w+)"', html)
    assert sorted(marked) == ["gap", "test"]
    row = html[html.index('<tr data-variant="l2 0.01">') :].split("</tr>")[0]
    assert row.count("marked") == 2


def test_user_strings_are_escaped(tiny_study):
    runs = [dataclasses.replace(r, variant=EVIL) if r.variant == "l2 0.01" else r
            for r in tiny_study.runs]  # fmt: skip
    study = dataclasses.replace(tiny_study, name=f"study {EVIL}", dataset=EVIL, runs=runs)
    html = render_report(study)
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "onerror" not in "".join(parse(html).srcs)


def test_report_is_self_contained(tiny_study):
    parsed = parse(render_report(tiny_study))
    assert parsed.srcs and all(s.startswith("data:image/png;base64,") for s in parsed.srcs)
    assert all(h.startswith("data:") for h in parsed.hrefs)
    assert "script" not in parsed.tags


def test_header_names_dataset_seeds_device_and_versions(tiny_study):
    html = render_report(tiny_study)
    header = html[html.index('<dl class="meta"') : html.index("</dl>")]
    for text in ("digits", "0, 1, 2, 3", "cpu", "reglab 0.1.0, torch 2.4.0", "hold-out",
                 "epochs=12", "hidden=[32]"):  # fmt: skip
        assert text in header


def test_kfold_studies_get_the_fold_table_and_curve(kfold_study):
    parsed = parse(render_report(kfold_study))
    assert [r[1] for r in body_rows(parsed, "kfold-table")] == ["0", "1", "2"]
    assert len(parsed.srcs) == 3  # curves, histograms, K-fold curve


def test_hold_out_studies_have_no_kfold_section(tiny_study):
    assert "kfold-table" not in render_report(tiny_study)


def test_verdict_is_in_the_report(tiny_study):
    html = render_report(tiny_study)
    assert "narrowed the train-test gap from 9.00" in html
    assert "paired t-test" in html


def test_a_study_without_runs_is_refused(tiny_study):
    with pytest.raises(ReglabError, match="Study 'tiny' has no runs yet"):
        render_report(dataclasses.replace(tiny_study, runs=[]))


def test_missing_store_is_named_and_not_created(tmp_path):
    store = tmp_path / "missing.db"
    with pytest.raises(ReglabError, match=r"No store at '.*missing.db': the file does not exist"):
        write_report(store, "tiny")
    assert not store.exists()


def test_report_of_a_store_is_written_where_asked_creating_folders(stored_tiny, tmp_path):
    store, study = stored_tiny
    output = tmp_path / "deep" / "er" / "report.html"
    assert write_report(store, study.name, output) == output
    assert "summary-table" in output.read_text(encoding="utf-8")


def test_report_defaults_to_study_name_in_the_current_folder(stored_tiny, tmp_path, monkeypatch):
    store, study = stored_tiny
    monkeypatch.chdir(tmp_path)
    path = write_report(store, study.name)
    assert path == type(path)("tiny.html") and (tmp_path / "tiny.html").is_file()


def test_unknown_study_lists_the_studies_the_store_has(stored_tiny):
    store, _ = stored_tiny
    with pytest.raises(
        ReglabError,
        match=r"Unknown study 'tiyn' in store .*; it has: 'tiny'; did you mean 'tiny'\?",
    ):
        write_report(store, "tiyn")


def test_command_line_reports_an_unknown_study_in_one_line(stored_tiny, capsys):
    from reglab.cli import main

    store, _ = stored_tiny
    assert main(["report", "nope", "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Unknown study 'nope'" in err


def test_a_study_validating_on_the_test_set_says_its_test_numbers_are_optimistic(tiny_study):
    spec = dict(tiny_study.spec, validation={"split": None, "folds": None})
    html = render_report(dataclasses.replace(tiny_study, spec=spec))
    assert 'id="protocol-note-1"' in html
    assert "the test set chose the epochs" in html
    assert "the test set chose the epochs" not in render_report(tiny_study)


def test_the_summary_names_its_three_sets_and_the_gap_against_test(tiny_study):
    html = render_report(tiny_study)
    header = html[html.index('<table id="summary-table">') :].split("</thead>")[0]
    assert "validation accuracy" in header and "test accuracy" in header
    assert "gap (train − test)" in header


def test_an_old_split_study_without_test_scores_gaps_against_validation(tiny_study):
    old = [dataclasses.replace(r, test_loss=None, test_metric=None) for r in tiny_study.runs]
    html = render_report(dataclasses.replace(tiny_study, runs=old))
    header = html[html.index('<table id="summary-table">') :].split("</thead>")[0]
    assert "gap (train − validation)" in header
    assert "held-out numbers are validation scores" in html
    assert "train-validation gap" in html  # the verdicts say which set they compare


def test_a_refit_study_shows_its_final_line(kfold_study):
    refits = [dataclasses.replace(kfold_study.runs[0], key=f"r{s}", seed=s, fold=-1,
                                  val_loss=None, val_metric=None, test_metric=2.0 + s,
                                  epochs_run=7) for s in (0, 1)]  # fmt: skip
    html = render_report(dataclasses.replace(kfold_study, runs=kfold_study.runs + refits))
    rows = {r[0]: r for r in body_rows(parse(html), "refit-table")}
    assert rows["baseline"][1] == "7" and rows["baseline"][2] == "2"
    assert rows["baseline"][3].startswith("2.500 ± ")  # the mean of 2.0 and 3.0
    kfold = body_rows(parse(html), "kfold-table")
    assert [r[1] for r in kfold] == ["0", "1", "2"]  # the refit is not a fold
