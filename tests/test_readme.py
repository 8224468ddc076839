"""The README's tables are made from the code (`python -m genart_playground.reference`) and must match it."""

import re

from genart_playground import reference, settings


def test_the_readme_tables_match_the_code():
    text = reference.README.read_text()
    assert reference.rewritten(text) == text, "run python -m genart_playground.reference"


def test_every_variable_settings_reads_is_in_the_configuration_table():
    source = (settings.PACKAGE_DIR / "settings.py").read_text()
    read = set(re.findall(r"""(?:_flag|_int|environ\.get)\(\s*"(GENART_\w+)""", source))
    assert read, "settings.py reads its variables some other way now: update this test"
    table = reference.configuration_table()
    assert {name for name in read if f"| `{name}` |" not in table} == set()


def test_every_family_model_variable_and_shipped_model_is_listed():
    from genart_playground import families
    from genart_playground.models import registry

    table, builtins = reference.configuration_table(), reference.builtins_table()
    for family in families.FAMILIES:
        assert not family.default_model or f"| `{family.default_env}` | `{family.default_model}` |" in table
        for spec in registry.models_for(family.id):
            assert (f"| `{spec.name}` |" in builtins) == spec.is_builtin
