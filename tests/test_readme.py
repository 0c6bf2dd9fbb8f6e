"""The README's Python workflow runs as written (on the embedded digits data)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(monkeypatch, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    assert namespace["history"].epoch[-1] >= 1
    assert len(namespace["cv"].histories) == 4
    exec(compile(blocks[1], str(README), "exec"), namespace)  # the CNN population
    assert namespace["cnn"].members == 3 and namespace["l2"].epoch == [1, 2, 3]
