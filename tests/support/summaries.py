"""The suite's summary lines: contract backends, ACL matrix cells, escalation cells.

Loaded by the root conftests (``pytest_plugins``), so the hooks run where the results
arrive: in the one pytest process of a serial run, and in the controller when
``pytest-xdist`` spreads the tests over workers (``make test``: ``-n auto``). They read
only what a test report carries — its ``nodeid``, its outcome and its
``user_properties`` (``("contract_backend", name)`` and ``("acl_cells_generated", n)``,
set at collection by ``tests/contract/conftest.py`` and ``tests/acl_matrix/conftest.py``) —
never state a worker process holds.
"""
from collections import Counter

CONTRACT_BACKENDS = ("memory", "embedded", "wire-motor", "wire-pymongo")

_contract = {}        # nodeid -> (backend, outcome); a failure in any phase wins
_acl_cells = Counter()  # (from the plan?, outcome) -> cells
_acl_generated = [0]   # the matrix plan's size, carried by each plan cell's report
_escalation_cells = Counter()


def _outcome(report):
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed:
        return "failed"
    if report.skipped:
        return "skipped"
    return "passed" if report.when == "call" else None


def _count_contract(report):
    backend = dict(report.user_properties).get("contract_backend")
    outcome = _outcome(report)
    if backend is None or outcome is None:
        return
    if _contract.get(report.nodeid, (backend, None))[1] != "failed":
        _contract[report.nodeid] = (backend, outcome)


def pytest_runtest_logreport(report):
    """Count each result as it arrives (from a worker under xdist)."""
    _count_contract(report)
    if report.when != "call":
        return
    nodeid = report.nodeid.replace("\\", "/")
    if "/acl_matrix/" in nodeid and "test_cell[" in nodeid:
        generated = dict(report.user_properties).get("acl_cells_generated")
        _acl_cells[generated is not None, report.outcome] += 1
        if generated is not None:
            _acl_generated[0] = generated
    elif "/escalation/" in nodeid and "_cell[" in nodeid:
        _escalation_cells[report.outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if _contract:
        _contract_line(terminalreporter)
    if _acl_cells:
        planned = _acl_cells[True, "passed"] + _acl_cells[True, "failed"]
        own = _acl_cells[False, "passed"] + _acl_cells[False, "failed"]
        wrong = _acl_cells[True, "failed"] + _acl_cells[False, "failed"]
        terminalreporter.write_line(
            f"ACL matrix: {planned + own} cells run, {wrong} wrong ({planned} of the "
            f"{_acl_generated[0]} the plan generates, {own} of the modules' own)")
    if _escalation_cells:
        total = sum(_escalation_cells.values())
        parts = ", ".join(f"{n} {outcome}"
                          for outcome, n in sorted(_escalation_cells.items()))
        terminalreporter.write_line(f"escalation matrix: {total} cells ran ({parts})")


def _contract_line(terminalreporter):
    results = {backend: Counter() for backend in CONTRACT_BACKENDS}
    for backend, outcome in _contract.values():
        results[backend][outcome] += 1
    parts = []
    for backend in CONTRACT_BACKENDS:
        counts = results[backend]
        text = f"{backend}={counts['passed']} passed"
        extra = [f"{counts[k]} {k}" for k in ("failed", "skipped", "xfailed", "xpassed")
                 if counts[k]]
        if extra:
            text += f" ({', '.join(extra)})"
        parts.append(text)
    terminalreporter.write_sep("-", "store contract")
    terminalreporter.write_line("contract backends: " + ", ".join(parts))
