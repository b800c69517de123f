"""Every message has a Russian, Vietnamese and Bulgarian translation, and the compiled catalogues are current."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.defaultfilters import floatformat
from django.utils import translation

RAPPORT = Path(settings.BASE_DIR) / "rapport"
LANGUAGES = ["ru", "vi", "bg"]


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Re-extract the messages from today's code into a copy of the catalogues, as `make messages` would."""
    copy = tmp_path_factory.mktemp("i18n") / "rapport"
    shutil.copytree(RAPPORT, copy, ignore=shutil.ignore_patterns("vendor", "__pycache__", "*.mo"))
    previous = Path.cwd()
    original_paths = settings.LOCALE_PATHS
    settings.LOCALE_PATHS = [copy / "locale"]
    try:
        os.chdir(copy)
        call_command(
            "makemessages",
            locale=LANGUAGES,
            no_obsolete=True,
            no_location=True,
            ignore_patterns=["static/*"],
            verbosity=0,
        )
    finally:
        os.chdir(previous)
        settings.LOCALE_PATHS = original_paths
    return copy / "locale"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(fresh_catalogues: Path, language: str) -> None:
    catalogue = polib.pofile(str(fresh_catalogues / language / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"{language}: no translation for {missing} — run `make messages` and translate"
    assert not fuzzy, f"{language}: fuzzy (unchecked) translations for {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_source(language: str) -> None:
    folder = RAPPORT / "locale" / language / "LC_MESSAGES"
    source = polib.pofile(str(folder / "django.po"))
    compiled = polib.mofile(str(folder / "django.mo"))

    def as_dict(catalogue: polib.POFile | polib.MOFile) -> dict[tuple[str, str], object]:
        return {
            (entry.msgctxt or "", entry.msgid): entry.msgstr_plural or entry.msgstr
            for entry in catalogue
            if entry.msgid and not entry.obsolete and "fuzzy" not in entry.flags
        }

    assert as_dict(compiled) == as_dict(source), f"run `make messages` to recompile {language}"


@pytest.mark.parametrize(
    ("language", "written"),
    [("en", "2,992,892"), ("ru", "2\xa0992\xa0892"), ("vi", "2.992.892"), ("bg", "2\xa0992\xa0892")],
)
def test_large_amounts_are_grouped_by_thousands_in_every_language(language: str, written: str) -> None:
    with translation.override(language):
        assert floatformat(2992892, "0g") == written
