"""docs/deploy.md stays true: its settings module, commands, backups and proxy headers."""
import asyncio
import re
import shlex
import shutil
import sqlite3
import sys

import pytest

from core.app import make_app, make_server
from core.conf import ImproperlyConfigured, load_settings
from core.db import connect
from core.management import discover_commands

from dumpload_support import REPO

DOC = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", DOC, re.DOTALL | re.MULTILINE)


def site_settings_source():
    """The ``bastion_site.py`` the doc writes with a heredoc."""
    for block in blocks("sh"):
        match = re.search(r"bastion_site\.py >/dev/null <<'EOF'\n(.*?)^EOF$", block,
                          re.DOTALL | re.MULTILINE)
        if match:
            return match.group(1)
    raise AssertionError("docs/deploy.md no longer writes bastion_site.py")


@pytest.fixture
def site_module(tmp_path, monkeypatch):
    (tmp_path / "bastion_site.py").write_text(site_settings_source())
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("bastion_site", None)
    yield "bastion_site"
    sys.modules.pop("bastion_site", None)


async def test_the_site_settings_module_turns_xheaders_on(site_module, tmp_path):
    settings = load_settings(site_module, environ={"COOKIE_SECRET": "s" * 40,
                                                   "VAR_DIR": str(tmp_path / "var"),
                                                   "DATABASE_URL": "memory:"})
    assert settings.XHEADERS is True
    assert settings.SECURE_COOKIES is True and settings.DEBUG is False
    app = make_app(settings)
    try:
        assert make_server(app).xheaders is True
    finally:
        await app.db.close()


def test_the_site_settings_module_still_requires_a_cookie_secret(site_module):
    with pytest.raises(ImproperlyConfigured, match="COOKIE_SECRET is not set"):
        load_settings(site_module, environ={"DATABASE_URL": "memory:"})


def manage_invocations():
    """``[(command, [--options])]`` of every ``manage.py`` line in the doc's sh/ini blocks."""
    found = []
    text = "\n".join(blocks("sh") + blocks("ini")).replace("\\\n", " ")
    for match in re.finditer(r"manage\.py ([a-z_]+)([^\n&;'#]*)", text):
        options = [word.split("=")[0] for word in shlex.split(match.group(2))
                   if word.startswith("--")]
        found.append((match.group(1), options))
    return found


def test_every_documented_command_and_option_exists(registry):
    commands = discover_commands(registry)
    used = manage_invocations()
    assert {name for name, _ in used} >= {"runserver", "check", "dumpdata", "loaddata",
                                          "ensure_indexes"}
    for name, options in used:
        assert name in commands, f"docs/deploy.md runs an unknown command {name!r}"
        command = commands[name].command_class(registry=registry)
        help_text = command.create_parser(f"manage.py {name}").format_help()
        for option in options:
            assert option in help_text, f"manage.py {name} has no {option}"


def test_nginx_passes_the_websocket_upgrade_and_client_address():
    nginx = blocks("nginx")[0]
    live = re.search(r"location = /admin/live \{(.*?)\n    \}", nginx, re.DOTALL).group(1)
    for line in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                 'proxy_set_header Connection "upgrade";', "proxy_set_header Host",
                 "proxy_set_header X-Forwarded-Proto $scheme;"):
        assert line in live
    for header in ("X-Real-IP", "X-Forwarded-For", "X-Scheme"):
        assert len(re.findall(rf"proxy_set_header {header}\s", nginx)) == 3


def backup_commands():
    """The two sqlite3 backup lines of the doc, as argument lists."""
    lines = [line for block in blocks("sh") for line in block.splitlines()
             if line.startswith("sqlite3 ")]
    assert len(lines) == 2
    return [shlex.split(line) for line in lines]


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 command-line shell")
async def test_documented_backups_are_consistent_while_the_store_is_written(tmp_path):
    live = tmp_path / "bastion.sqlite3"
    db = connect(f"embedded:{live}")
    collection = db["blog_article"]
    await collection.insert_many([{"n": n} for n in range(500)])
    stop = asyncio.Event()

    async def keep_writing():
        n = 500
        while not stop.is_set():
            await collection.insert_one({"n": n})
            n += 1

    writer = asyncio.ensure_future(keep_writing())
    backups = []
    try:
        for number, argv in enumerate(backup_commands()):
            target = tmp_path / f"backup-{number}.sqlite3"
            script = re.sub(r"'[^']*'", f"'{target}'", argv[2])   # the doc's target path
            proc = await asyncio.create_subprocess_exec(
                "sqlite3", str(live), script, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            backups.append(target)
    finally:
        stop.set()
        await writer
        await db.close()
    for target in backups:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copy = connect(f"embedded:{target}")
        try:
            docs = await copy["blog_article"].find({}, sort=[("n", 1)]).to_list(None)
        finally:
            await copy.close()
        numbers = [doc["n"] for doc in docs]
        assert numbers[:500] == list(range(500))
        assert numbers == list(range(len(numbers)))   # a snapshot: no gaps, nothing torn
