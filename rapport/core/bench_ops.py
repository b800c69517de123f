"""The shell's benchmark operations: the trivial baseline and the pages everyone opens first."""

from __future__ import annotations

from rapport.core import bench

bench.register(bench.BenchOperation(key=bench.TRIVIAL, title="trivial view (/ping)", path=lambda _: "/ping", user=""))
bench.register(bench.BenchOperation(key="login page", title="login page", path=lambda _: "/accounts/login/", user=""))
bench.register(bench.BenchOperation(key="home page", title="home page", path=lambda _: "/"))
