"""The report in a real browser: Debian's headless Chromium driven by Playwright.

Never `playwright install`: the tests use the system's /usr/bin/chromium and skip with
a reason where it is missing. A screenshot of each report goes to test-artifacts/.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from reglab.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EVIL = "<img src=x onerror=alert(1)>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


class Visit:
    """A page opened on a report file, with what happened while it loaded."""

    def __init__(self, browser, path: Path):
        self.url = path.resolve().as_uri()
        self.requests, self.errors, self.dialogs = [], [], []
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(self.url, wait_until="load")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.fixture
def visit(browser):
    visits = []

    def open_report(path):
        visits.append(Visit(browser, path))
        return visits[-1]

    yield open_report
    for v in visits:
        v.page.close()


def test_report_loads_offline_with_every_figure_visible(stored_tiny, tmp_path, visit):
    store, study = stored_tiny
    seen = visit(write_report(store, study.name, tmp_path / "tiny.html"))
    seen.screenshot("report-tiny.png")
    assert seen.errors == []
    assert [u for u in seen.requests if not u.startswith("data:")] == [seen.url]
    images = seen.page.eval_on_selector_all(
        "img",
        "imgs => imgs.map(i => ({complete: i.complete, natural: i.naturalWidth,"
        " width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height}))",
    )
    assert len(images) == 3  # forest plot, learning curves and weight histograms
    for image in images:
        assert image["complete"] and image["natural"] > 0
        assert image["width"] > 100 and image["height"] > 100


def test_summary_table_numbers_equal_the_stored_ones(stored_tiny, tmp_path, visit):
    store, study = stored_tiny
    seen = visit(write_report(store, study.name, tmp_path / "tiny.html"))
    for variant in ("baseline", "l2 0.01"):
        done = [r for r in study.runs if r.variant == variant and r.status == "done"]
        row = seen.page.locator(f'#summary-table tr[data-variant="{variant}"]')
        for column, field in (("test", "test_metric"), ("validation", "val_metric")):
            values = 100 * np.array([getattr(r, field) for r in done])
            low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                                         scale=stats.sem(values))  # fmt: skip
            shown = row.locator(f'td[data-column="{column}"]').inner_text()
            assert shown == f"{values.mean():.2f} ± {(high - low) / 2:.2f}"
        assert row.locator('td[data-column="runs"]').inner_text() == str(
            sum(r.variant == variant for r in study.runs)
        )


def test_script_in_a_variant_name_does_not_run(tiny_study, store_of, tmp_path, visit):
    runs = [dataclasses.replace(r, variant=EVIL) if r.variant == "l2 0.01" else r
            for r in tiny_study.runs]  # fmt: skip
    study = dataclasses.replace(tiny_study, name=f"tiny {EVIL}", dataset=EVIL, runs=runs)
    seen = visit(write_report(store_of(study), study.name, tmp_path / "evil.html"))
    seen.screenshot("report-escaped-names.png")
    assert seen.dialogs == [] and seen.errors == []
    assert seen.page.locator("h1").inner_text() == f"tiny {EVIL}"
    names = seen.page.locator("#summary-table td.variant").all_inner_texts()
    assert names == ["baseline", EVIL]
    assert seen.page.locator("img").count() == 3  # no image injected by the name
