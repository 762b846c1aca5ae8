# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark the veeam_ahv.backup.vms inventory plugin against the emulator.

Starts the emulator on 127.0.0.1, generates 10 clusters of 5,000 VMs, delays
every API request by 50 ms, then measures:

1. ``ansible-inventory --list`` with max_workers 1, 4 and 8 and page sizes 100
   and 500: wall time, API requests, and the plugin's own times for reading the
   API and building hosts (from its -vv output).
2. The plugin's API read alone (``fetch_source_data``), in this process.
3. A naive read with the same ``ApiClient``: the cluster VM lists page by page,
   then one ``GET /protectedVms/{id}/restorePoints`` per VM for its protection
   data, on 8 threads. The plugin's read is reported as a ratio against it.

Run it with ``make bench``, or with ANSIBLE_COLLECTIONS_PATH pointing at a built
copy of the collection:

    ANSIBLE_COLLECTIONS_PATH=.build .venv/bin/python bench/run.py

Results go to stdout as Markdown and to bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

ADDED_LINE = re.compile(r"Added (\d+) host\(s\) in ([\d.]+) s")
READ_LINE = re.compile(r"Read (\d+) VM\(s\) of (\d+) cluster\(s\) .* in ([\d.]+) s")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--clusters", type=int, default=10, help="clusters to generate")
    parser.add_argument("--vms", type=int, default=5000, help="VMs per cluster")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds added to every API request"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated dataset")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 4, 8], help="max_workers values"
    )
    parser.add_argument(
        "--page-sizes", type=int, nargs="+", default=[100, 500], help="page_size values"
    )
    parser.add_argument(
        "--baseline-workers", type=int, default=8, help="threads of the naive baseline"
    )
    parser.add_argument(
        "--skip-baseline", action="store_true", help="skip the naive per-VM baseline"
    )
    return parser.parse_args()


def collections_path() -> str:
    """Return the first ANSIBLE_COLLECTIONS_PATH entry, which must hold the built collection."""
    value = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build"))
    path = Path(value.split(os.pathsep)[0]).resolve()
    if not (path / "ansible_collections" / "veeam_ahv" / "backup").is_dir():
        sys.exit(
            f"No built collection under {path}: run tests/tools/build-collection "
            ".build/ansible_collections/veeam_ahv/backup first, or use make bench."
        )
    return str(path)


def machine() -> dict:
    """Describe the machine and software the numbers were measured on."""
    import ansible.release

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "ansible_core": ansible.release.__version__,
        "platform": platform.platform(),
        # Other work on the machine slows the runs down, and this shows how busy it was.
        "load_average_1_5_15_min": [round(load, 2) for load in os.getloadavg()],
    }


class Bench:
    """One emulator with the generated dataset and the latency fault."""

    def __init__(self, emulator, arguments, collections: str, work_dir: Path):
        self.emulator = emulator
        self.arguments = arguments
        self.collections = collections
        self.work_dir = work_dir
        self.runs = 0

    def request_total(self) -> int:
        return self.emulator.control.counters()["total"]

    def environment(self) -> dict:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("VEEAM_AHV_", "ANSIBLE_"))
        }
        env.update(
            ANSIBLE_COLLECTIONS_PATH=self.collections,
            ANSIBLE_HOME=str(self.work_dir / "ansible-home"),
            ANSIBLE_LOCAL_TEMP=str(self.work_dir / "ansible-tmp"),
            ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1",
            ANSIBLE_NOCOLOR="1",
            VEEAM_AHV_URL=self.emulator.url,
            VEEAM_AHV_USERNAME=self.emulator.username,
            VEEAM_AHV_PASSWORD=self.emulator.password,
            VEEAM_AHV_CA_PATH=self.emulator.ca_path,
        )
        return env

    def inventory_run(self, workers: int, page_size: int) -> dict:
        """Run ansible-inventory --list once and return its measurements."""
        self.runs += 1
        source = self.work_dir / f"run{self.runs}.veeam_ahv.yml"
        source.write_text(
            f"plugin: veeam_ahv.backup.vms\nmax_workers: {workers}\npage_size: {page_size}\n",
            encoding="utf-8",
        )
        output = self.work_dir / "inventory.json"
        command = [
            str(Path(sys.executable).with_name("ansible-inventory")),
            "-i",
            str(source),
            "--list",
            "--output",
            str(output),
            "-vv",
        ]

        before = self.request_total()
        started = time.monotonic()
        completed = subprocess.run(
            command, env=self.environment(), capture_output=True, text=True, check=False
        )
        wall = time.monotonic() - started
        requests = self.request_total() - before
        if completed.returncode != 0:
            raise RuntimeError(f"ansible-inventory failed:\n{completed.stderr[-3000:]}")

        added = ADDED_LINE.search(completed.stdout)
        read = READ_LINE.search(completed.stdout)
        output_bytes = output.stat().st_size
        output.unlink()
        return {
            "max_workers": workers,
            "page_size": page_size,
            "wall_seconds": round(wall, 2),
            "requests": requests,
            "hosts": int(added.group(1)) if added else None,
            "api_read_seconds": float(read.group(3)) if read else None,
            "host_build_seconds": float(added.group(2)) if added else None,
            "output_megabytes": round(output_bytes / 1e6, 1),
        }

    def client_factory(self, page_size: int):
        from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import ApiClient

        def create_client(access_token=None):
            return ApiClient(
                url=self.emulator.url,
                username=self.emulator.username,
                password=self.emulator.password,
                access_token=access_token,
                ca_path=self.emulator.ca_path,
                page_size=page_size,
            )

        return create_client

    def plugin_read(self, workers: int, page_size: int) -> dict:
        """Time the plugin's API read (fetch_source_data) in this process."""
        from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_fetch import (
            fetch_source_data,
        )

        before = self.request_total()
        started = time.monotonic()
        result = fetch_source_data(self.client_factory(page_size), None, workers)
        seconds = time.monotonic() - started
        vm_count = sum(len(vms) for vms in result.data["vms"].values())
        return {
            "method": f"plugin read, {workers} threads, page {page_size}",
            "seconds": round(seconds, 2),
            "requests": self.request_total() - before,
            "vms": vm_count,
            "protected": len(result.data["protected_vms"] or []),
        }

    def naive_read(self, workers: int, page_size: int = 100) -> dict:
        """Time a naive read that requests each VM's restore points separately."""
        from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import api_path
        from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import ApiError
        from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
            list_cluster_vms,
            list_clusters,
        )

        create_client = self.client_factory(page_size)
        main = create_client()
        local = threading.local()
        clients = [main]
        lock = threading.Lock()

        def thread_client():
            if not hasattr(local, "client"):
                local.client = create_client(access_token=main.tokens.access_token())
                with lock:
                    clients.append(local.client)
            return local.client

        def protection(vm_id: str) -> int:
            try:
                points = thread_client().get_all(api_path("protectedVms", vm_id, "restorePoints"))
            except ApiError as error:
                if error.status == 404:
                    return 0
                raise
            return len(points)

        before = self.request_total()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as executor:
            clusters = list_clusters(main)
            vm_lists = executor.map(
                lambda cluster: list_cluster_vms(thread_client(), cluster["id"]), clusters
            )
            vm_ids = [vm["id"] for vms in vm_lists for vm in vms]
            counts = list(executor.map(protection, vm_ids, chunksize=64))
        for client in clients:
            client.close()
        seconds = time.monotonic() - started
        return {
            "method": f"naive read, {workers} threads, page {page_size}, one request per VM",
            "seconds": round(seconds, 2),
            "requests": self.request_total() - before,
            "vms": len(vm_ids),
            "protected": sum(1 for count in counts if count),
        }


def markdown(results: dict) -> str:
    lines = [
        f"Dataset: {results['dataset']}",
        "",
        "| max_workers | page_size | wall (s) | requests | API read (s) | host build (s) "
        "| rest (s) | hosts | --list output (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in results["inventory_runs"]:
        # Start-up, reading the source, and ansible-inventory writing its output.
        rest = (
            run["wall_seconds"] - (run["api_read_seconds"] or 0) - (run["host_build_seconds"] or 0)
        )
        lines.append(
            f"| {run['max_workers']} | {run['page_size']} | {run['wall_seconds']} "
            f"| {run['requests']} | {run['api_read_seconds']} | {run['host_build_seconds']} "
            f"| {rest:.1f} | {run['hosts']} | {run['output_megabytes']} |"
        )
    lines += ["", "| API read | seconds | requests | VMs | protected | time vs naive |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    naive = results.get("naive_read")
    for read in results["api_reads"] + ([naive] if naive else []):
        ratio = f"{naive['seconds'] / read['seconds']:.0f}x faster" if naive else "n/a"
        if read is naive:
            ratio = "1x"
        lines.append(
            f"| {read['method']} | {read['seconds']} | {read['requests']} | {read['vms']} "
            f"| {read['protected']} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> int:
    arguments = parse_arguments()
    collections = collections_path()
    sys.path.insert(0, collections)
    from vbahv_emulator.testing import EmulatorProcess

    results = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "dataset": (
            f"{arguments.clusters} clusters x {arguments.vms} VMs, seed {arguments.seed}, "
            f"{arguments.latency * 1000:.0f} ms added to every API request"
        ),
        "inventory_runs": [],
        "api_reads": [],
    }
    with tempfile.TemporaryDirectory(prefix="vbahv-bench-") as temp:
        work_dir = Path(temp)
        with EmulatorProcess(work_dir / "emulator") as emulator:
            summary = emulator.control.generate(
                clusters=arguments.clusters, vmsPerCluster=arguments.vms, seed=arguments.seed
            )
            print(f"Generated {summary}", file=sys.stderr)
            if arguments.latency:
                emulator.control.add_fault(path=r"^/api/", delay=arguments.latency, count=-1)
            bench = Bench(emulator, arguments, collections, work_dir)
            for page_size in arguments.page_sizes:
                for workers in arguments.workers:
                    run = bench.inventory_run(workers, page_size)
                    print(f"ansible-inventory {run}", file=sys.stderr)
                    results["inventory_runs"].append(run)
            for page_size in arguments.page_sizes:
                read = bench.plugin_read(arguments.baseline_workers, page_size)
                print(f"{read}", file=sys.stderr)
                results["api_reads"].append(read)
            if not arguments.skip_baseline:
                results["naive_read"] = bench.naive_read(arguments.baseline_workers)
                print(f"{results['naive_read']}", file=sys.stderr)

    results["machine_at_end"] = {
        "load_average_1_5_15_min": [round(load, 2) for load in os.getloadavg()]
    }
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")
    (results_dir / f"{stamp}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(markdown(results))
    print()
    print("Machine: " + json.dumps(results["machine"]))
    print("At the end: " + json.dumps(results["machine_at_end"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
