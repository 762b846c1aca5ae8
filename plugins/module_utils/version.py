# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection version, sent in the User-Agent header. Keep equal to galaxy.yml."""

from __future__ import annotations

COLLECTION_VERSION = "0.1.0"
