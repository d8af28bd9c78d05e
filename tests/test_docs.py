"""Every ```python block in README.md and docs/*.md runs, in order, per file.

Blocks of one file share a namespace and may use top-level ``await``. A block
that is illustration only is fenced as ```text instead.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(path):
    return BLOCK.findall(path.read_text(encoding="utf-8")) if path.exists() else []


@pytest.mark.parametrize("path", [p for p in DOCS if python_blocks(p)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
async def test_doc_snippets_run(path, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)          # snippets that write files write them here
    namespace = {"__name__": f"doc:{path.name}"}
    for number, source in enumerate(python_blocks(path), 1):
        code = compile(source, f"{path.name}#block{number}", "exec",
                       flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, namespace)
        if result is not None:           # a block with top-level await is a coroutine
            await result
    assert namespace, "the snippets ran"


def test_every_setting_is_documented():
    """docs/settings.md has a row for every setting settings/base.py defines."""
    names = re.findall(r"^([A-Z][A-Z0-9_]*) *[:=]", (ROOT / "settings" / "base.py").read_text(),
                       re.MULTILINE)
    documented = (ROOT / "docs" / "settings.md").read_text()
    missing = [name for name in names if f"`{name}`" not in documented]
    assert names and not missing, f"settings missing from docs/settings.md: {missing}"


def test_the_readme_operator_commands_run(tmp_path):
    """The README's users/roles/permissions block, line by line, on a fresh database."""
    import os
    import subprocess
    import sys
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"^```sh\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
                 if "createsuperuser" in b)
    env = dict(os.environ, BASTION_SETTINGS="settings.test", PY=sys.executable,
               MANAGE=str(ROOT / "manage.py"),
               DATABASE_URL=f"embedded:{tmp_path}/readme.sqlite3", VAR_DIR=str(tmp_path))
    commands = []
    for line in block.strip().splitlines():
        command = line.split("  #")[0].strip().replace(".venv/bin/python manage.py",
                                                       '"$PY" "$MANAGE"')
        if " createsuperuser " in command or " createuser " in command:
            command = f"printf 'a-long-pass-phrase-9\\n' | {command} --password-stdin"
        commands.append(command)
    script = "set -e\n" + "\n".join(commands) + "\n"        # runs in tmp_path
    result = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, text=True,
                            capture_output=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "blog.article" in result.stdout and "role:editors" in result.stdout
    dump = (tmp_path / "backup.jsonl").read_text().splitlines()
    assert any('"accounts.user"' in line and '"alice"' in line for line in dump)
