"""Any variant name: a 500-character one wraps, emoji and CJK raise no glyph warning."""

import re

from rich.console import Console

from reglab.report import render_report
from reglab.study import load_study, parse_spec, run_study
from reglab.study.tables import summary_table

LONG = "x" * 500
NAMES = {"baseline": {}, LONG: {"dropout": 0.2}, "🚀 dropout": {"dropout": 0.3},
         "正则化 L2": {"penalty": {"l2": 0.01}}}  # fmt: skip


def _study(tmp_path):
    spec = parse_spec({"name": "names", "dataset": "iris", "epochs": 2,
                       "model": {"hidden": [4]}, "variants": NAMES})  # fmt: skip
    run_study(spec, store=tmp_path / "s.db", progress=False)
    return load_study(tmp_path / "s.db", "names")


def test_any_variant_name_renders_whole_in_the_report_without_warnings(tmp_path):
    html = render_report(_study(tmp_path))  # warnings are errors in this suite
    for name in NAMES:
        assert f'data-variant="{name}"' in html
    assert re.search(r"td, li \{ overflow-wrap: anywhere; \}", html)


def test_the_terminal_summary_fits_80_columns(tmp_path):
    console = Console(width=80, record=True)
    console.print(summary_table(_study(tmp_path)))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("🚀 dropout" in line for line in lines) and any(
        "正则化 L2" in line for line in lines
    )
    assert sum("x" * 16 in line for line in lines) <= 3  # a long name is cut, not 32 lines
