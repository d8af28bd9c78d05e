"""Templates only read what the page computed: none calls back into the admin site,
takes the flashes or touches cookies (``BaseHandler.page_context`` does, once)."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CALLS = re.compile(r"get_flashes|\.readable\(|clear_cookie|set_cookie|set_signed_cookie|"
                   r"admin_site|application\.")


def templates():
    for folder in [REPO / "templates", *REPO.glob("core/**/templates"),
                   *REPO.glob("apps/**/templates")]:
        yield from folder.rglob("*.html")


def test_no_template_calls_back_into_the_site_or_the_cookies():
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
             for path in templates()
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if CALLS.search(line)]
    assert found == []
    assert len(list(templates())) > 10                 # the scan saw the templates
