# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every module and the inventory plugin."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the Veeam Plug-in for Nutanix AHV backup appliance, as C(https://), host and
        optional port, for example V(https://vbahv.example.com).
      - Do not add a path. The collection adds C(/api/<api_version>) itself.
      - C(http://) is rejected, because the API is served over HTTPS only and the login
        would send the password in clear text.
      - If not set, the value of the E(VEEAM_AHV_URL) environment variable is used.
    type: str
    required: true
  username:
    description:
      - Name of the appliance user to log in as, with O(password).
      - If not set, the value of the E(VEEAM_AHV_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password of O(username). The collection logs in with it, refreshes the token before
        it expires, and logs the token out when the task or inventory run ends.
      - If not set, the value of the E(VEEAM_AHV_PASSWORD) environment variable is used.
      - Either O(password) or O(access_token) is required.
    type: str
  access_token:
    description:
      - An access token obtained earlier, for example with the M(veeam_ahv.backup.token)
        module, so that a playbook logs in once.
      - The collection never logs out a token it was given.
      - When the token expires or is rejected, the collection logs in again with
        O(username) and O(password) if they are set, and fails otherwise.
      - If not set, the value of the E(VEEAM_AHV_ACCESS_TOKEN) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to validate the appliance's TLS certificate.
      - Set to V(false) only for a lab appliance with a self-signed certificate; prefer
        O(ca_path).
      - V(false) turns validation off even when O(ca_path) is set.
      - If not set, the value of the E(VEEAM_AHV_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate that signed the appliance's certificate.
      - It applies to every request, including login and logout, and takes precedence over
        the E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) environment variables.
      - If not set, the value of the E(VEEAM_AHV_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the appliance to respond to one request.
      - If not set, the value of the E(VEEAM_AHV_TIMEOUT) environment variable is used.
    type: float
    default: 60
  api_version:
    description:
      - Version of the plug-in REST API, used in the path C(/api/<api_version>).
      - Only V(v7) is supported. Version 8 and later are served by the Veeam Backup &
        Replication server with a different login.
      - If not set, the value of the E(VEEAM_AHV_API_VERSION) environment variable is used.
    type: str
    default: v7
    choices: [v7]
notes:
  - Requests that get HTTP 429, 502, 503 or 504, or lose their connection, are retried up to
    5 times with exponential backoff and jitter, honouring C(Retry-After). GET, PUT and DELETE
    requests and the login request are retried. A POST that starts a restore, a rescan or a
    job is sent again only when the connection could not be opened or the server rejected
    it with 401 for an expired token, because in both cases the server did not act on it.
  - Proxies are taken from the E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment
    variables.
requirements:
  - requests >= 2.25.0
"""
