"""The scripts' catalog (``<body data-i18n>``): what building it costs, and what a page
pays now that it is built once per language.

    python bench/script_catalog.py [--pages 2000]

Prints, for French and German, the microseconds of one build (reading the messages and
translating each, then JSON: what every page paid when it was built per page) and of one
``js_catalog`` call once built (what a page pays now), and the ratio. CPU time of this
process (``time.process_time``), best of three rounds.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import i18n  # noqa: E402


def per_call(function, pages):
    best = None
    for _round in range(3):
        start = time.process_time()
        for _ in range(pages):
            function()
        spent = (time.process_time() - start) / pages * 1e6
        best = spent if best is None else min(best, spent)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args(argv)
    i18n.install([i18n.CORE_LOCALE_DIR], default="en", languages=["en", "fr", "de"])
    for language in ("fr", "de"):
        locale = i18n.locale_for(language)
        build = per_call(lambda: i18n.build_script_catalog(locale), args.pages)
        cached = per_call(lambda: i18n.js_catalog(locale), args.pages)
        print(f"{language}: build {build:.1f} µs, cached {cached:.2f} µs per page "
              f"({build / cached:.0f}× less)")


if __name__ == "__main__":
    main()
