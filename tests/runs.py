"""Each family's real functions by api name: what the app hands a tab's `build_tab(run=...)`; the tests
call the tabs' handlers with them (or with fakes)."""

from genart_playground import families
from genart_playground.ui.handlers import package_functions

RUN = {family.id: package_functions(family) for family in families.FAMILIES}
