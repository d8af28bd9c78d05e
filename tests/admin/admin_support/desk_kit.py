"""Helpers of the everyday-tools tests (``desk`` fixture: the ``desk_demo`` app)."""
import datetime
import html
import re

from bson import ObjectId

UTC = datetime.timezone.utc
POSTS = "/admin/desk/post/"
WRITERS = "/admin/desk/writer/"


async def add_writer(site, name, handle, team="red"):
    return await site.model("desk.writer").create(name=name, handle=handle, team=team,
                                                  db=site.db)


async def add_posts(site, rows):
    """Insert posts (dicts of field values) with one ``insert_many``; their ids."""
    Post = site.model("desk.post")
    docs = []
    for values in rows:
        post = Post(id=ObjectId(), **values)
        post.clean()
        doc = post.to_bson()
        doc["version"] = 1
        doc.setdefault("created", datetime.datetime.now(UTC))
        docs.append(doc)
    await Post.get_collection(site.db).insert_many(docs)
    return [doc["_id"] for doc in docs]


def titles(text):
    """The list page's titles (the link column), in order."""
    return [html.unescape(t) for t in re.findall(
        r'<td>(?:<input type="hidden"[^>]*>)*<a href="/admin/desk/post/[0-9a-f]{24}/">'
        r'([^<]*)</a>', text)]


def sidebar(text, title):
    """The labels offered by the filter section ``By <title>``."""
    match = re.search(rf'<h3>By {re.escape(title)}</h3>(.*?)</section>', text, re.S)
    if not match:
        return None
    return [html.unescape(label) for label in re.findall(r'<a href="[^"]*"[^>]*>([^<]*)</a>',
                                                         match.group(1))]


def sidebar_link(text, title, label):
    match = re.search(rf'<h3>By {re.escape(title)}</h3>(.*?)</section>', text, re.S)
    found = re.search(rf'<a href="([^"]*)"[^>]*>{re.escape(html.escape(label))}</a>',
                      match.group(1))
    return html.unescape(found.group(1)) if found else None


async def upload(browser, path, filename, content, **fields):
    """POST a multipart form with one file (``file``) and ``fields``, with the XSRF token."""
    boundary = "----desk-kit-boundary-7f3a"
    fields["_xsrf"] = await browser.xsrf()
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f'{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode() + content.encode() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return await browser.fetch(path, method="POST", body=b"".join(parts), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
