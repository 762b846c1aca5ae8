# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only callback that appends every task result to a JSON-lines file.

The integration tests read the file named by TASK_RESULTS_FILE to assert on
module results. Results of no_log tasks arrive censored, as for any callback.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_results
type: aggregate
short_description: Write task results to a JSON-lines file for the integration tests
description:
  - Appends one JSON object per task result to the file named by E(TASK_RESULTS_FILE).
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_results"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status: str) -> None:
        path = os.environ.get("TASK_RESULTS_FILE")
        if not path:
            return
        # ansible-core 2.19 added public task, host and result properties; older
        # versions have only the underscored attributes.
        task = getattr(result, "task", None) or result._task
        host = getattr(result, "host", None) or result._host
        record = {
            "task": task.get_name(),
            "host": host.get_name(),
            "status": status,
            "result": getattr(result, "result", None) or result._result,
        }
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")
