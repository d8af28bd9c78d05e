"""Identity keys: when two usernames (or emails) are "the same" to a human reader.

    identity_key("Alice")            # "alice"
    identity_key("ＡＬＩＣＥ")        # "alice"   (fullwidth letters: NFKC)
    identity_key("аlice")            # "alice"   (a Cyrillic "а" looks like the Latin one)
    scripts("аdmin")                 # {"Cyrillic", "Latin"}
    mixed_script("аdmin")            # True: refuse it as a username

``identity_key`` is NFKC, then case folding, then NFKC again (Unicode's
NFKC_Casefold, without its ignorable-character removal), then a small table of
letters that look like Latin ones (Cyrillic, Greek, dotless ı) folded to the
Latin letter. Two names with the same key look alike: a store keeps the key in
a unique index, so the second one is refused whatever its case or alphabet.

``scripts`` names the Unicode scripts of the letters and digits of a text
(from each character's Unicode name, after NFKC); punctuation, ASCII digits and
the underscore belong to none. ``mixed_script`` is true when those scripts are
neither one script nor a combination a language writes with (UTS #39 "highly
restrictive": Latin with Han + Hiragana + Katakana, Han + Bopomofo, or Han +
Hangul). The throttle (``core.auth.throttle``) counts failures under the same
key, so "Alice" and "аlice" share a counter.
"""
import unicodedata

__all__ = ["identity_key", "mixed_script", "scripts"]

#: letters of other alphabets that a reader takes for a Latin one (after case folding;
#: several come from the capital: "в" is "В", which looks like "B")
LOOK_ALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "ë", "з": "3", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i",
    "ї": "ï", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
    # Latin letters that read as another
    "ı": "i", "ɡ": "g", "ɑ": "a", "ʟ": "l",
})

#: script combinations a single language writes with (UTS #39, highly restrictive)
ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)

#: the first word(s) of a Unicode character name → its script, where they differ
_SCRIPT_NAMES = {
    "CJK": "Han", "IDEOGRAPHIC": "Han", "KANGXI": "Han",
    "ARABIC-INDIC": "Arabic", "EXTENDED": "Arabic",
    "KATAKANA-HIRAGANA": "Katakana", "HALFWIDTH": "Katakana",
}


def identity_key(text):
    """The key under which ``text`` (a username or an email) must be unique."""
    if not isinstance(text, str):
        return None
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text.strip())
                                   .casefold())
    return folded.translate(LOOK_ALIKES)


def _script(char):
    category = unicodedata.category(char)
    if char.isascii() and not char.isalpha():
        return None                          # ASCII digits and punctuation: any script
    if not (category.startswith("L") or category in ("Nd", "Nl", "No")):
        return None                          # marks inherit; punctuation belongs to none
    name = unicodedata.name(char, "")
    if not name:
        return "Unknown"
    word = name.split(" ", 1)[0]
    return _SCRIPT_NAMES.get(word, word.capitalize())


def scripts(text):
    """The set of script names of the letters and non-ASCII digits of ``text`` (NFKC)."""
    found = set()
    for char in unicodedata.normalize("NFKC", text or ""):
        script = _script(char)
        if script is not None:
            found.add(script)
    return found


def mixed_script(text):
    """True when ``text`` mixes scripts no single language writes together."""
    found = scripts(text)
    if len(found) <= 1:
        return False
    return not any(found <= allowed for allowed in ALLOWED_MIXES)
