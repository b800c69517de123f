"""`rapport bench` (`make bench`): time every registered operation against data set M.

The run uses a database of its own (never the working one), loads demo data M into it
once, starts the production web server on it and asks each operation's page over HTTP
from 127.0.0.1. The server reports its own time per request in a `Server-Timing`
header, so p50/p95 leave out the client; requests per second are the client's wall
clock. Results replace this backend's section of docs/benchmarks.md.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import django
import httpx
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone, translation
from psycopg import sql
from psycopg.conninfo import make_conninfo

from config.env import database_from_url
from rapport.core import bench
from rapport.core.demo import DEMO_PASSWORD

BENCH_ALIAS = "bench"
DEMO_SCALE = "M"
DEMO_LOAD_TARGET_SECONDS = 5 * 60
WARMUP_REQUESTS = 20
THREADS = 8
# Each concurrent client only needs its connection opened: the server is warm by then.
THREAD_WARMUP_REQUESTS = 3
REQUEST_TIMEOUT_SECONDS = 30
SERVER_START_TIMEOUT_SECONDS = 60
SERVER_STOP_TIMEOUT_SECONDS = 10
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
SERVER_TIMING = re.compile(r"\bapp;dur=([0-9.]+)")


@dataclass(frozen=True)
class Measurement:
    operation: bench.BenchOperation
    p50_ms: float
    p95_ms: float
    per_second_c1: float
    per_second_c8: float


class Command(BaseCommand):
    help = "Benchmark the registered operations on data set M; results go to docs/benchmarks.md."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database-url", default="", help="Benchmark database (default: see docs/benchmarks.md).")
        parser.add_argument("--fresh", action="store_true", help="Drop the benchmark database and load it again.")
        parser.add_argument("--only", metavar="KEY", help="Run one operation (and the trivial baseline).")
        parser.add_argument("--requests", type=int, default=300, help="Requests per operation and concurrency.")

    def handle(self, *args: Any, **options: Any) -> None:
        # httpx logs every request at INFO: thousands of lines, and time taken from the client.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        try:
            self.run(options)
        except KeyboardInterrupt:
            # The server (if any) is stopped by then: running_server() stops it on the way out.
            raise CommandError("interrupted; docs/benchmarks.md is left as it was.") from None

    def run(self, options: dict[str, Any]) -> None:
        selected = select_operations(bench.operations(), options["only"])
        if options["requests"] < 1:
            raise CommandError("--requests must be at least 1.")
        var_dir = settings.VAR_DIR / "bench"
        url = bench_database_url(
            override=options["database_url"], environment_url=os.environ.get("DATABASE_URL", ""), var_dir=var_dir
        )
        config = database_from_url(url, base_dir=settings.BASE_DIR)
        if options["fresh"]:
            database_drop(config)
        database_create(config)
        env = server_environment(url, var_dir)
        self.prepare(env)

        context = bench_context(config)
        calls = {operation.key: bench_call(operation, context) for operation in selected}
        facts = run_facts(context, requests=options["requests"])
        # The harness only reads; a connection left open would pin an SQLite WAL snapshot.
        connections[BENCH_ALIAS].close()

        with running_server(env) as base_url:
            harness = Harness(base_url)
            measurements = []
            for operation in selected:
                self.stdout.write(f"Measuring {operation.title}: {calls[operation.key]}…")
                measurements.append(harness.measure(operation, calls[operation.key], options["requests"]))

        table = results_table(measurements)
        self.stdout.write("\n" + table)
        if options["only"]:
            self.stdout.write("One operation only: docs/benchmarks.md is left as it was.")
            return
        report = settings.BASE_DIR / "docs" / "benchmarks.md"
        document = report.read_text() if report.exists() else "# Benchmarks\n"
        section = backend_section(connections[BENCH_ALIAS].vendor, f"{facts}\n\n{table}")
        report.write_text(replace_section(document, connections[BENCH_ALIAS].vendor, section))
        self.stdout.write(self.style.SUCCESS(f"Results written to {report.relative_to(settings.BASE_DIR)}."))

    def prepare(self, env: dict[str, str]) -> None:
        """Migrate the benchmark database and load data set M into it unless it is there already."""
        self.stdout.write("Preparing the benchmark database…")
        require_success(rapport_run(["up", "--no-serve"], env=env, show_output=False))
        started = time.monotonic()
        loading = rapport_run(["demo", "--scale", DEMO_SCALE], env=env, show_output=True)
        # `rapport demo` refuses a second load with this error; for us it means "ready".
        if loading.returncode != 0 and "demo data is already loaded" in loading.stderr:
            self.stdout.write(f"Demo data {DEMO_SCALE} is already loaded (--fresh reloads it).")
            return
        require_success(loading)
        elapsed = time.monotonic() - started
        style = self.style.SUCCESS if elapsed <= DEMO_LOAD_TARGET_SECONDS else self.style.ERROR
        self.stdout.write(
            style(f"Demo data {DEMO_SCALE} loaded in {elapsed:.1f} s (target ≤ {DEMO_LOAD_TARGET_SECONDS} s).")
        )


def select_operations(operations: list[bench.BenchOperation], only: str | None) -> list[bench.BenchOperation]:
    """The operations to run; the trivial one always, since every other is compared with it."""
    if not operations or operations[0].key != bench.TRIVIAL:
        raise CommandError(f"no operation keyed {bench.TRIVIAL!r} is registered: it is the baseline.")
    if only is None:
        return operations
    chosen = [operation for operation in operations if operation.key == only]
    if not chosen:
        keys = ", ".join(repr(operation.key) for operation in operations)
        raise CommandError(f"no operation keyed {only!r}; the registered ones are {keys}.")
    return [operations[0], *chosen] if only != bench.TRIVIAL else chosen


# The benchmark database


def bench_database_url(*, override: str, environment_url: str, var_dir: Path) -> str:
    """The given URL; else `<name>_bench` beside a PostgreSQL DATABASE_URL; else an SQLite file."""
    if override:
        return override
    if environment_url.split(":", 1)[0].lower() in POSTGRES_SCHEMES:
        parts = urlsplit(environment_url)
        name = unquote(parts.path.lstrip("/"))
        return urlunsplit(parts._replace(path="/" + quote(f"{name}_bench")))
    return f"sqlite:///{var_dir / 'bench.sqlite3'}"


def is_postgres(config: dict[str, Any]) -> bool:
    return bool(config["ENGINE"] == "django.db.backends.postgresql")


@contextmanager
def postgres_server(config: dict[str, Any]) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the server's maintenance database, to create or drop the benchmark one."""
    parameters = {
        "host": config.get("HOST"),
        "port": config.get("PORT"),
        "user": config.get("USER"),
        "password": config.get("PASSWORD"),
    }
    conninfo = make_conninfo(
        dbname="postgres", connect_timeout=5, **{key: str(value) for key, value in parameters.items() if value}
    )
    try:
        # Autocommit: CREATE/DROP DATABASE cannot run inside a transaction.
        connection = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as error:
        raise CommandError(f"cannot reach the PostgreSQL server for the benchmark database: {error}") from None
    with connection:
        yield connection


def database_drop(config: dict[str, Any]) -> None:
    if not is_postgres(config):
        for suffix in ("", "-wal", "-shm"):
            Path(config["NAME"] + suffix).unlink(missing_ok=True)
        return
    with postgres_server(config) as server:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))


def database_create(config: dict[str, Any]) -> None:
    """Create the benchmark database if missing; migrations come later, from `rapport up`."""
    if not is_postgres(config):
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return
    with postgres_server(config) as server:
        if server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone() is None:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def server_environment(url: str, var_dir: Path) -> dict[str, str]:
    """The environment of every child process: the benchmark database, production settings, timing on."""
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    return {
        **env,
        "DATABASE_URL": url,
        # Static files and a secret key of its own: collectstatic must not rewrite the
        # files that a working server on this machine is serving.
        "RAPPORT_VAR_DIR": str(var_dir),
        "RAPPORT_SERVER_TIMING": "true",
        "RAPPORT_HTTPS": "false",
        # `up` creates the benchmark database's first admin with the demo users' password: operations
        # only admins may run (statements for everyone) sign in as "admin".
        "RAPPORT_ADMIN_PASSWORD": DEMO_PASSWORD,
    }


def rapport_run(arguments: list[str], *, env: dict[str, str], show_output: bool) -> subprocess.CompletedProcess[str]:
    """Run `rapport <arguments>` on the benchmark database; stderr is kept for the caller to read."""
    sys.stdout.flush()  # our own lines first, then the child's
    return subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "rapport", *arguments],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=None if show_output else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


def require_success(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        command = " ".join(result.args[2:])  # without the interpreter and "-m"
        output = ((result.stdout or "") + result.stderr).strip()
        raise CommandError(f"`{command}` failed (exit code {result.returncode}):\n{output}")


def bench_context(config: dict[str, Any]) -> bench.BenchContext:
    """Open the benchmark database in this process under its own alias, for lookups and counts.

    Django has no public call to add a database after start-up; filling in the connection
    handler's settings the way it does for DATABASES is the least surprising way.
    """
    connections.settings[BENCH_ALIAS] = connections.configure_settings({DEFAULT_DB_ALIAS: dict(config)})[
        DEFAULT_DB_ALIAS
    ]
    return bench.BenchContext(database=BENCH_ALIAS)


def run_facts(context: bench.BenchContext, *, requests: int) -> str:
    """When, where and on how much data: the lines above a backend's table."""
    connection = connections[context.database]
    version = ".".join(str(part) for part in connection.get_database_version())
    with translation.override("en"):
        sizes = ", ".join(
            f"{context.objects(model).count():,} {model._meta.verbose_name_plural}" for model in bench.tables()
        )
    return "\n".join(
        [
            f"- Run: {timezone.now():%Y-%m-%d %H:%M} UTC, {requests} requests per operation at each concurrency",
            f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"Django {django.get_version()}, {connection.display_name} {version}",
            f"- Data set {DEMO_SCALE}: {sizes}",
        ]
    )


# The server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[str]:
    """The production server (granian, 2 workers) on a free local port; stopped on the way out, Ctrl-C too."""
    port = free_port()
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "config.wsgi:application"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-ws", "--log-level", "warning"]
    # Its own session: Ctrl-C reaches only us, and we stop the server in order below.
    server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)  # noqa: S603
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_answering(server, base_url)
        yield base_url
    finally:
        server_stop(server)


def wait_until_answering(server: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"the web server stopped while starting (exit code {server.returncode}).")
        try:
            if httpx.get(f"{base_url}/ping", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    raise CommandError(f"the web server did not answer /ping within {SERVER_START_TIMEOUT_SECONDS} s.")


def server_stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        # The group is the one the server leads (start_new_session): its workers go with it.
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# Requests


@dataclass
class Call:
    """An operation's request, resolved against the benchmark database before the server starts.

    ``fields`` gives a write's form fields for the n-th request, counted across the whole run
    (warm-up and concurrent clients included), so a write can alternate between two states.
    """

    method: str
    path: str
    fields: Callable[[int], Mapping[str, str]] | None = None
    body: Callable[[int], bench.RawBody] | None = None
    _numbers: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def send(self, client: httpx.Client) -> float:
        # next() on a count is atomic under the GIL: concurrent clients never get the same number.
        number = next(self._numbers)
        if self.body is not None:
            return server_ms(client, self.path, method=self.method, raw=self.body(number))
        data = self.fields(number) if self.fields is not None else None
        return server_ms(client, self.path, method=self.method, data=data)


def bench_call(operation: bench.BenchOperation, context: bench.BenchContext) -> Call:
    method = operation.method.upper()
    if method not in {"GET", "POST"}:
        raise CommandError(f"operation {operation.key!r}: only GET and POST are timed, not {operation.method!r}.")
    if method == "POST" and not operation.user and operation.body is None:
        raise CommandError(f"operation {operation.key!r}: a POST needs a signed-in user (for its CSRF token).")
    fields = operation.data(context) if operation.data is not None else None
    body = operation.body(context) if operation.body is not None else None
    return Call(method=method, path=operation.path(context), fields=fields, body=body)


class Harness:
    """HTTP clients for one server; signs each user in once and hands copies of the session to clients."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._cookies: dict[str, httpx.Cookies] = {}

    def client(self, operation: bench.BenchOperation) -> httpx.Client:
        user = operation.user
        if user and user not in self._cookies:
            self._cookies[user] = self._sign_in(user)
        # A client copies the cookies it is given, so threads never share a cookie jar.
        return httpx.Client(
            base_url=self.base_url,
            timeout=REQUEST_TIMEOUT_SECONDS,
            cookies=self._cookies.get(user),
            headers=dict(operation.headers),
        )

    def _sign_in(self, user: str) -> httpx.Cookies:
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            server_ms(client, "/accounts/login/")  # sets the CSRF cookie
            answer = client.post(
                "/accounts/login/",
                data={"username": user, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
            )
            if answer.status_code != 302:
                raise CommandError(
                    f"signing in as {user!r} failed: POST /accounts/login/ answered {answer.status_code}."
                )
            return client.cookies

    def measure(self, operation: bench.BenchOperation, call: Call, requests: int) -> Measurement:
        requests = min(requests, operation.requests or requests)
        with self.client(operation) as client:
            for _ in range(min(WARMUP_REQUESTS, requests)):
                call.send(client)
            started = time.perf_counter()
            times = [call.send(client) for _ in range(requests)]
            per_second_c1 = requests / (time.perf_counter() - started)
        return Measurement(
            operation=operation,
            p50_ms=percentile(times, 0.50),
            p95_ms=percentile(times, 0.95),
            per_second_c1=per_second_c1,
            per_second_c8=self._concurrent_rate(operation, call, requests),
        )

    def _concurrent_rate(self, operation: bench.BenchOperation, call: Call, requests: int) -> float:
        """Requests per second with THREADS clients asking at once, `requests` in all."""
        clients = [self.client(operation) for _ in range(THREADS)]
        stop = threading.Event()  # set on a failure or Ctrl-C, so that no thread keeps asking

        def ask(client: httpx.Client, count: int) -> None:
            for _ in range(count):
                if stop.is_set():
                    return
                call.send(client)

        try:
            for client in clients:
                for _ in range(1 if operation.requests else THREAD_WARMUP_REQUESTS):
                    call.send(client)
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                started = time.perf_counter()
                futures = [
                    pool.submit(ask, client, count) for client, count in zip(clients, shares(requests), strict=True)
                ]
                try:
                    for future in as_completed(futures):
                        future.result()  # the first failure surfaces at once
                except BaseException:
                    stop.set()
                    raise
                return requests / (time.perf_counter() - started)
        finally:
            for client in clients:
                client.close()


def shares(requests: int, parts: int = THREADS) -> list[int]:
    """Split `requests` over `parts` threads as evenly as whole numbers allow."""
    return [requests // parts + (1 if index < requests % parts else 0) for index in range(parts)]


def server_ms(
    client: httpx.Client,
    path: str,
    *,
    method: str = "GET",
    data: Mapping[str, str] | None = None,
    raw: bench.RawBody | None = None,
) -> float:
    """Ask for `path` and return the server's own time for it, in milliseconds; anything but 200 fails the run.

    A POST sends `data` as a form, with the CSRF token of the signed-in session's cookie, or a `raw` body with
    its own headers, as a machine posts.
    """
    request = f"{method} {path}"
    try:
        if method == "GET":
            response = client.get(path)
        elif raw is not None:
            response = client.request(method, path, content=raw[0], headers=dict(raw[1]))
        else:
            headers = {"X-CSRFToken": client.cookies.get("csrftoken") or ""}
            response = client.request(method, path, data=dict(data or {}), headers=headers)
    except httpx.HTTPError as error:
        raise CommandError(f"{request} failed: {error!r}") from None
    if response.status_code != 200:
        location = response.headers.get("Location")
        redirect = f" (to {location})" if location else ""
        reason = f": {response.text[:200]}" if response.headers.get("Content-Type", "").startswith("text/plain") else ""
        raise CommandError(f"{request} answered {response.status_code}{redirect}{reason}, not 200.")
    match = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
    if match is None:
        raise CommandError(f"{request} came without a Server-Timing header; is RAPPORT_SERVER_TIMING on?")
    return float(match.group(1))


# The report


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` (0–1) quantile, interpolated between the closest ranks (as NumPy does by default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def milliseconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def results_table(measurements: list[Measurement]) -> str:
    """The Markdown table; the first measurement is the trivial baseline the ratios divide by."""
    baseline = measurements[0].p95_ms
    lines = [
        "| operation | target | p50 ms | p95 ms | ×trivial | req/s c1 | req/s c8 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for measurement in measurements:
        target = measurement.operation.target_ms
        verdict = "" if target is None else (" ✓" if measurement.p95_ms <= target else " ✗")
        ratio = measurement.p95_ms / baseline if baseline else math.inf
        lines.append(
            f"| {measurement.operation.title} | {'—' if target is None else f'≤ {target:g}'} "
            f"| {milliseconds(measurement.p50_ms)} | {milliseconds(measurement.p95_ms)}{verdict} "
            f"| {ratio:.1f} | {measurement.per_second_c1:.0f} | {measurement.per_second_c8:.0f} |"
        )
    return "\n".join(lines)


BACKEND_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def section_markers(backend: str) -> tuple[str, str]:
    return f"<!-- bench:{backend}:start -->", f"<!-- bench:{backend}:end -->"


def backend_section(backend: str, body: str) -> str:
    start, end = section_markers(backend)
    return f"{start}\n## {BACKEND_TITLES.get(backend, backend)}\n\n{body}\n{end}"


def replace_section(document: str, backend: str, section: str) -> str:
    """Put `section` where this backend's markers are, or at the end; the rest stays as it was."""
    start, end = section_markers(backend)
    begin = document.find(start)
    finish = document.find(end, begin)
    if begin == -1 or finish == -1:
        return f"{document.rstrip()}\n\n{section}\n"
    return document[:begin] + section + document[finish + len(end) :]
