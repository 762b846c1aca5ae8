"""Command line: `vbahv-emulator serve` starts the emulator and prints one JSON line when ready."""

import argparse
import asyncio
import json
import logging
import signal
import ssl
import sys
import tempfile
from pathlib import Path

import trustme
from aiohttp import web

from vbahv_emulator import __version__
from vbahv_emulator.config import DEFAULT_PASSWORD, DEFAULT_USERNAME, Config
from vbahv_emulator.emulator import Emulator
from vbahv_emulator.errors import ApiError
from vbahv_emulator.server import build_app

log = logging.getLogger("vbahv_emulator")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vbahv-emulator", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the emulator")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one (default 0)"
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        help="directory for ca.pem and emulator.json (default: a new temporary directory)",
    )
    serve.add_argument("--http", action="store_true", help="serve plain HTTP instead of HTTPS")

    serve.add_argument(
        "--dataset",
        default="default",
        help="'default', 'empty', or the path of a dataset JSON file (default: default)",
    )
    serve.add_argument("--seed", type=int, help="seed of the default dataset and of new ids")
    serve.add_argument(
        "--max-page-size",
        type=int,
        default=500,
        help="maximum number of items in one page of a list (default 500)",
    )
    serve.add_argument(
        "--session-duration",
        type=float,
        default=4.0,
        help="seconds a session takes from Starting to Finished (default 4)",
    )

    serve.add_argument(
        "--access-token-lifetime",
        type=float,
        default=1800.0,
        help="access token lifetime in seconds (default 1800)",
    )
    serve.add_argument(
        "--refresh-token-lifetime",
        type=float,
        default=86400.0,
        help="refresh token lifetime in seconds (default 86400)",
    )

    serve.add_argument(
        "--username", default=DEFAULT_USERNAME, help=f"login user name (default {DEFAULT_USERNAME})"
    )
    serve.add_argument(
        "--password", default=DEFAULT_PASSWORD, help="login password (default printed at start-up)"
    )
    serve.add_argument("--log-level", default="INFO", help="logging level on stderr (default INFO)")
    return parser


def _load_dataset(value: str):
    if value in ("default", "empty"):
        return value
    path = Path(value)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SystemExit(f"vbahv-emulator: cannot read dataset file {path}: {exc}") from None
    except ValueError as exc:
        raise SystemExit(f"vbahv-emulator: dataset file {path} is not valid JSON: {exc}") from None


def _tls_context(state_dir: Path) -> tuple[ssl.SSLContext, Path]:
    """Write a new CA to `state_dir/ca.pem` and issue a server certificate for 127.0.0.1."""
    authority = trustme.CA(organization_name="vbahv-emulator")
    certificate = authority.issue_cert("127.0.0.1", "localhost", "::1")
    ca_path = state_dir / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    return context, ca_path


async def _serve(args: argparse.Namespace, emu: Emulator, state_dir: Path) -> None:
    ssl_context, ca_path = (None, None) if args.http else _tls_context(state_dir)
    runner = web.AppRunner(build_app(emu), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"{'http' if args.http else 'https'}://{host}:{port}"
    info = {
        "url": url,
        "ca_path": str(ca_path) if ca_path else None,
        "control_url": f"{url}/_emulator",
        "username": emu.config.username,
        "password": emu.config.password,
    }
    (state_dir / "emulator.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    log.info("emulator %s listening on %s (state dir %s)", __version__, url, state_dir)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    await stop.wait()
    log.info("stopping the emulator on %s", url)
    await runner.cleanup()
    log.info("emulator stopped")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.max_page_size < 1:
        raise SystemExit("vbahv-emulator: --max-page-size must be at least 1")
    config = Config(
        username=args.username,
        password=args.password,
        accessTokenLifetime=args.access_token_lifetime,
        refreshTokenLifetime=args.refresh_token_lifetime,
        maxPageSize=args.max_page_size,
        sessionDuration=args.session_duration,
    )
    try:
        emu = Emulator(config, _load_dataset(args.dataset), seed=args.seed)
    except ApiError as exc:
        raise SystemExit(f"vbahv-emulator: invalid dataset {args.dataset}: {exc.detail}") from None
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="vbahv-emulator-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(_serve(args, emu, state_dir.resolve()))
    return 0
