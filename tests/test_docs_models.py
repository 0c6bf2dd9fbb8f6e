"""docs/models.md: its examples run as written, one after the other."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def test_the_your_own_model_page_runs(monkeypatch, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
    assert len(namespace["members"]) == 3
    assert namespace["accuracy"] > 0.5
    assert namespace["both"].get_weights()[0].shape == (64, 64)
