"""The suite's own layout: one ``support`` package, no ``sys.path`` edits, app tests collected.

Kits and test apps are importable through pytest's ``pythonpath`` (setup.cfg); a test that
needs a generated package on the path uses ``monkeypatch.syspath_prepend``, which undoes
itself. ``make test`` runs ``apps/<name>/tests/`` too, because ``testpaths`` names ``apps``.
"""
import re
from pathlib import Path

import support

REPO = Path(__file__).resolve().parents[1]
PATH_EDIT = re.compile(r"\bsys\.path\.(insert|append|extend)\(|\bsys\.path\s*(\[|\+?=)")


def suite_files():
    return sorted([*(REPO / "tests").rglob("*.py"), *(REPO / "apps").glob("*/tests/*.py"),
                   *(REPO / "core/management/app_template/tests").glob("*-tpl")])


def test_no_test_file_edits_sys_path_or_imports_the_old_kit():
    offenders = []
    for path in suite_files():
        text = path.read_text(encoding="utf-8")
        if path.resolve() == Path(__file__).resolve():
            continue
        if PATH_EDIT.search(text) or re.search(r"^\s*(import|from) http_kit\b", text, re.M):
            offenders.append(path.relative_to(REPO).as_posix())
    assert offenders == []


def test_support_and_the_test_apps_come_from_the_pythonpath_option(pytestconfig):
    assert Path(support.__file__).resolve().parent == REPO / "tests" / "support"
    paths = {Path(p).resolve() for p in pytestconfig.getini("pythonpath")}
    assert (REPO / "tests").resolve() in paths
    for app in ("admin_demo", "audit_demo", "auth_demo", "acl_shop"):
        folders = [p for p in paths if (p / app / "app.py").is_file()]
        assert folders, f"the test app {app} is not on pytest's pythonpath"


def test_make_test_collects_every_apps_own_tests(pytestconfig):
    assert {"tests", "apps"} <= set(pytestconfig.getini("testpaths"))
    for folder in sorted((REPO / "apps").glob("*/tests")):
        assert (folder / "__init__.py").is_file(), f"{folder} is not a package"
        assert any(folder.glob("test_*.py")), f"{folder} has no test module"


def test_no_two_test_modules_share_a_basename():
    """Test folders are not packages, so pytest imports each test module by its basename:
    two ``test_pages.py`` in different folders stop the whole run at collection."""
    seen = {}
    for path in suite_files():
        if path.name.startswith("test_") and path.suffix == ".py":
            seen.setdefault(path.name, []).append(path.relative_to(REPO).as_posix())
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
