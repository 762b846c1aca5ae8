# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Put API text into inventory warnings and errors so that each message stays one line.

VM and cluster names and the server's error details are free text. A newline in
a VM name, printed as it is, could start a line that looks like a warning of its
own, so non-printable characters are shown as the escapes Python's ``repr``
uses, such as ``\\n``.
"""

from __future__ import annotations


def escape_control(text) -> str:
    """Return ``text`` with every non-printable character written as its ``repr`` escape."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def quote(value) -> str:
    """Return ``value`` as a quoted string with escapes, as ``repr`` writes a str."""
    return repr(str(value))
