"""The live socket's error texts are in the user's language, as the JSON API's are: their
preference (as stored at the socket's last re-check), else the upgrade's
``Accept-Language``. The frames' keys and types stay English, for programs."""
import asyncio

from core import i18n
from support.live import LiveClient

NOTES = {"notes.note": ["read", "write", "delete"]}


def said(language, message, values=None):
    text = i18n.locale_for(language).translate(message)
    assert text != message, f"{message!r} has no {language} translation"
    return text % values if values else text


async def test_a_french_users_socket_answers_in_french(site):
    pierre = await site.user_browser("pierre", {"notes.category": ["read"]}, language="fr")
    client = await LiveClient.connect(site.port, pierre.cookies)
    refused = await client.subscribe("notes.note")
    assert refused == {"type": "error", "model": "notes.note",
                       "error": said("fr", "You may not read %(model)s.",
                                     {"model": "notes.note"})}
    await client.connection.write_message("not json")
    assert await client.next() == {"type": "error",
                                   "error": said("fr", "Messages must be JSON objects.")}
    await client.send({"type": "shout"})
    assert await client.next() == {"type": "error", "error": said(
        "fr", "Unknown message type %(type)s.", {"type": "'shout'"})}
    await client.send({"type": "subscribe", "model": "notes.category", "id": "65f000000000"
                       "000000000000"})
    missing = await client.next()
    assert missing["error"] == said("fr", "No such object, or you may not read it.")
    await client.send({"type": "subscribe", "model": 5})
    assert (await client.next())["error"] == said(
        "fr", "subscribe needs a model key, and optionally an object id and a list of ids.")
    client.close()


async def test_the_language_follows_the_users_preference_at_the_recheck(site):
    pierre = await site.user_browser("pierre", {"notes.category": ["read"]}, language="fr")
    client = await LiveClient.connect(site.port, pierre.cookies)
    await client.connection.write_message("not json")   # the socket's language: French
    assert await client.next() == {"type": "error",
                                   "error": said("fr", "Messages must be JSON objects.")}
    User = site.model("accounts.user")
    await User.get_collection(site.db).update_one({"username": "pierre"},
                                                  {"$set": {"language": "de"}})
    await asyncio.sleep(0.5)                          # > LIVE_RECHECK_SECONDS (0.3)
    refused = await client.subscribe("notes.note")
    assert refused["error"] == said("de", "You may not read %(model)s.",
                                    {"model": "notes.note"})
    client.close()
