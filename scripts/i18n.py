"""Translation catalogue tools.

fill-en: English msgids are the English text; copy each msgid into the `en` msgstr
         so English has a complete, explicit catalogue; tidy both catalogues' headers.
apply-vi FILE.json...: set Vietnamese msgstrs from {"English msgid": "Vietnamese"} files
         (plurals as {"__plurals__": [{"msgid", "plural", "vi"}]}), clearing fuzzy marks.
check:   fail when a catalogue has an untranslated or fuzzy entry, or when a
         compiled .mo is missing or older than its .po.
"""
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def catalogues():
    return sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))


def fill_en() -> int:
    po_path = LOCALE / "en" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    # Always the msgid itself: a stale msgstr (a fuzzy match merged from another entry) would show
    # English readers another sentence ("3 archived listings" for "3 listings").
    for entry in po:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save()
    for po_path in catalogues():
        _tidy_header(po_path)
    return 0


def apply_vi(paths: list[str]) -> int:
    import json

    translations, plurals = {}, {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for item in data.pop("__plurals__", []):
            plurals[item["msgid"]] = item["vi"]
        translations.update(data)
    po_path = LOCALE / "vi" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    applied = 0
    for entry in po:
        if entry.msgid_plural and entry.msgid in plurals:
            entry.msgstr_plural = {0: plurals[entry.msgid]}
        elif entry.msgid in translations:
            entry.msgstr = translations[entry.msgid]
        else:
            continue
        applied += 1
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    po.save()
    print(f"applied {applied} Vietnamese translations; {len(po.untranslated_entries())} still untranslated")
    return 0


def _tidy_header(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    language = po_path.parent.parent.name
    po.metadata_is_fuzzy = False
    po.header = "Chợ Nổi translation catalogue. Vietnamese first, English second."
    po.metadata.update(
        {
            "Project-Id-Version": "cho-noi",
            "Language": language,
            "Language-Team": language,
            "Plural-Forms": "nplurals=1; plural=0;" if language == "vi" else "nplurals=2; plural=(n != 1);",
        }
    )
    for key in ("PO-Revision-Date", "Last-Translator", "Report-Msgid-Bugs-To"):
        po.metadata.pop(key, None)
    po.save()


def check() -> int:
    problems = []
    if not catalogues():
        problems.append("no catalogues under locale/")
    for po_path in catalogues():
        po = polib.pofile(str(po_path))
        rel = po_path.relative_to(LOCALE.parent)
        if po.metadata_is_fuzzy:
            problems.append(f"{rel}: the header is marked fuzzy")
        for entry in po.untranslated_entries():
            problems.append(f"{rel}: untranslated: {entry.msgid!r}")
        for entry in po.fuzzy_entries():
            problems.append(f"{rel}: fuzzy: {entry.msgid!r}")
        if po_path.parts[-3] == "en":  # English msgids are the English text (fill-en)
            for entry in po.translated_entries():
                wanted = {0: entry.msgid, 1: entry.msgid_plural} if entry.msgid_plural else entry.msgid
                if (entry.msgstr_plural if entry.msgid_plural else entry.msgstr) != wanted:
                    problems.append(f"{rel}: not its msgid: {entry.msgid!r} (run make messages)")
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists():
            problems.append(f"{rel}: not compiled (run make messages)")
        else:
            compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo_path))}
            for entry in po.translated_entries():
                if entry.msgid_plural:
                    continue
                if compiled.get((entry.msgctxt, entry.msgid)) != entry.msgstr:
                    problems.append(f"{rel}: .mo out of date for {entry.msgid!r} (run make messages)")
                    break
        print(f"{rel}: {len(po.translated_entries())} translated, {po.percent_translated()}%")
    for problem in problems:
        print("ERROR", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "apply-vi":
        sys.exit(apply_vi(sys.argv[2:]))
    sys.exit({"fill-en": fill_en, "check": check}[command]())
