"""The README's generated parts: the configuration table (settings.VARIABLES and each family's model
variable), the built-in models (the registry's `builtin/` models, their family's tab and their model card)
and the lesson links' tab values.

    python -m genart_playground.reference          # rewrite them in README.md
    python -m genart_playground.reference --check  # exit 1 if README.md does not match

`tests/test_readme.py` runs the check, so the README cannot drift from the code.
"""

import re
import sys
from pathlib import Path

from . import families, settings
from .models import registry

README = settings.PACKAGE_DIR.parent / "README.md"
MARKERS = {"configuration": "the configuration table", "builtins": "the built-in models table",
           "tabs": "the lesson links' tab values"}


def configuration_table() -> str:
    rows = [(family.default_env, f"`{family.default_model}`", f"default model of the {family.title} tab")
            for family in families.FAMILIES if family.default_model]
    rows += list(settings.VARIABLES)
    return "\n".join(["| variable | default | what it does |", "| --- | --- | --- |",
                      *(f"| `{name}` | {default} | {what} |" for name, default, what in rows)])


def model_card(spec) -> str:
    if not spec.is_local:
        return ""
    card = Path(spec.source) / "README.md"
    return f"`{card.relative_to(settings.PACKAGE_DIR.parent)}`" if card.is_file() else ""


def builtins_table() -> str:
    rows = [(spec.name, families.by_id(spec.family).title, spec.description, model_card(spec))
            for family in families.FAMILIES for spec in registry.models_for(family.id) if spec.is_builtin]
    return "\n".join(["| name | tab | what | card |", "| --- | --- | --- | --- |",
                      *(f"| `{name}` | {tab} | {what} | {card} |" for name, tab, what, card in rows)])


def tab_values() -> str:
    tabs = [f"`{family.id}`" for family in families.FAMILIES if family.tab]
    return f"`tab` is one of {', '.join(tabs[:-1])} and {tabs[-1]} (the families' ids, one a tab);"


TABLES = {"configuration": configuration_table, "builtins": builtins_table, "tabs": tab_values}


def _pattern(key: str) -> re.Pattern:
    start = rf"<!-- {MARKERS[key]}: made by python -m genart_playground.reference -->\n"
    return re.compile(rf"({start})(.*?)(\n<!-- end -->)", re.S)


def rewritten(text: str) -> str:
    for key, table in TABLES.items():
        if not _pattern(key).search(text):
            raise ValueError(f"README.md has no markers for {MARKERS[key]}.")
        text = _pattern(key).sub(lambda match: match.group(1) + table() + match.group(3), text)
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = README.read_text()
    if "--check" in argv:
        if rewritten(text) != text:
            print("README.md's generated tables are stale: run python -m genart_playground.reference")
            return 1
        return 0
    README.write_text(rewritten(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
