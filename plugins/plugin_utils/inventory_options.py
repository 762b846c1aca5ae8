# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check inventory plugin options that ansible-core converts too leniently."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

BOOLEAN_TYPES = ("bool", "boolean")


def invalid_boolean(definitions: dict, config: dict, environ) -> str | None:
    """Return an error message for the first boolean option with an invalid value, or None.

    ansible-core converts a ``type: bool`` option with ``boolean(strict=False)``,
    which turns any unknown text into false, so ``validate_certs: ture`` would
    turn TLS validation off. This applies the strict rule that module arguments
    follow. ``definitions`` are the plugin's option definitions, ``config`` the
    inventory source file and ``environ`` the environment. A value set in the
    file is checked, or else the variable ansible-core reads the option from. An
    empty variable counts as unset.
    """
    for name in sorted(definitions):
        definition = definitions[name]
        if definition.get("type") not in BOOLEAN_TYPES:
            continue
        value, source = _raw_value(name, definition, config, environ)
        if value is None:
            continue
        try:
            boolean(value, strict=True)
        except TypeError:
            return (
                f"{name} must be a boolean (true or false, yes or no, on or off, 1 or 0), "
                f"got {value!r} from {source}."
            )
    return None


def _raw_value(name: str, definition: dict, config: dict, environ) -> tuple:
    """Return the option's value before conversion and where it comes from."""
    value = config.get(name)
    if value is not None:
        return value, "the inventory source"
    # NOTE: a value from ansible.cfg (the cache and use_extra_vars options have ini
    # entries) is not checked and keeps ansible-core's lenient conversion.
    # ansible-core uses the last variable of the list that is set.
    for entry in reversed(definition.get("env") or []):
        variable = entry.get("name")
        value = environ.get(variable)
        if value is None:
            continue
        if not value.strip():
            return None, None
        return value, variable
    return None, None
