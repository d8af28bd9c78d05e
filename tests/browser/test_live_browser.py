"""Live updates in a real browser, in French: live.js's running count of new objects
takes the plural form the French catalog's rule picks (``T.n`` in static/i18n.js) —
"1 nouveau", then "2 nouveaux" — in the page's ``role="status"`` region."""
import html

import pytest

from browser_kit import READER, log_in
from core import i18n

pytestmark = pytest.mark.asyncio(loop_scope="module")

ARTICLES = "/admin/blog/article/"


async def test_the_new_objects_count_takes_the_languages_plural(page, site):
    await site.create_user("amelie", READER, language="fr")
    writer = await site.user_browser("writer", {"blog.article": ["read", "write"]})
    await log_in(page, site, "amelie")
    await page.goto(site.url(ARTICLES))
    await page.locator(".changelist.live-on").wait_for()        # subscribed
    fr = i18n.locale_for("fr")
    one, many = str(fr.translate("article")), str(fr.translate("articles"))
    expected = []
    for count, title in ((1, "Premier"), (2, "Second")):
        response = await writer.post(ARTICLES + "add/", {"title": title, "body": "",
                                                         "category": "", "tags": ""})
        assert response.code == 303, response.text[:300]
        text = fr.translate("%(count)s new %(name)s", "%(count)s new %(name)s", count) % {
            "count": count, "name": one if count == 1 else many}
        expected.append(text)
        notice = page.locator('#live-status [data-slot="new"]')
        await notice.filter(has_text=text).wait_for(timeout=10_000)
    assert [html.unescape(text) for text in expected] == ["1 nouveau : article",
                                                          "2 nouveaux : articles"]
