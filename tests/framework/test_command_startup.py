"""What a ``manage.py`` command imports before it runs: only what commands need.

Every command loads the installed apps (models, admin modules, commands), and the test
suite and operators start hundreds of them; a heavy library that only some request
handlers use must be imported by those handlers on first use.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import runpy, sys
sys.argv = ["manage.py", "help"]
try:
    runpy.run_path("manage.py", run_name="__main__")
except SystemExit:
    pass
print("LOADED", " ".join(sorted(name for name in {LIBRARIES!r} if name in sys.modules)))
"""

# only the passkey pages use webauthn, which pulls in cryptography and pyasn1
REQUEST_ONLY_LIBRARIES = ("webauthn", "pyasn1", "pyasn1_modules")


def test_help_starts_without_the_libraries_only_requests_use():
    code = PROBE.replace("{LIBRARIES!r}", repr(REQUEST_ONLY_LIBRARIES))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.rsplit("LOADED", 1)[1].split()
    assert loaded == [], f"manage.py help imported {loaded}"
