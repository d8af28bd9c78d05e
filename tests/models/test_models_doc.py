"""docs/models.md: its ```python blocks run, in order, and do what the text says."""
import ast
import re
from pathlib import Path

import pytest

import core.models
from core.models import ValidationError

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


async def run_blocks(blocks, namespace):
    for number, source in enumerate(blocks, 1):
        code = compile(source, f"models.md#block{number}", "exec",
                       flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, namespace)
        if result is not None:
            await result


async def test_models_doc_snippets_run():
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 6, "the main snippets are still in docs/models.md"
    *body, shutdown = blocks
    assert "unbind()" in shutdown
    previous = core.models.unbind()
    namespace = {"__name__": "apps.library.models"}
    try:
        await run_blocks(body, namespace)
        Book, db = namespace["Book"], namespace["db"]
        # the state the snippets leave behind, checked straight in the collection
        stored = await db["library_book"].find({}, sort=[("title", 1)]).to_list(None)
        assert [(d["title"], d["version"]) for d in stored] == [
            ("Dune (revised)", 2), ("Emma", 1)]
        assert namespace["mine"].version == 2       # reloaded after the conflict
        assert Book._meta.get_field("isbn").unique
        assert await Book.count() == 2               # the refused creates wrote nothing
        Loan = namespace["Loan"]
        assert Loan._meta.key == "library.loan"
        bad_loan = Loan(book=stored[0]["_id"], start="2024-05-02", end="2024-05-01")
        with pytest.raises(ValidationError, match="end: The loan must end after it starts"):
            bad_loan.clean()
        await run_blocks([shutdown], namespace)
        assert core.models.connection._database is None
    finally:
        core.models.unbind()
        if previous is not None:
            core.models.bind(previous)
