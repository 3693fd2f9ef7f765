"""Prefect's temporary local API server: one per command, shared by all its processes, ended with it.

Without a configured server, Prefect starts a temporary one (``SubprocessASGIServer``: uvicorn in a
subprocess) in every process that needs the API, and stops it at interpreter exit. So a batch
on worker processes (a process pool, Dask) started one server per worker, and a command killed
with SIGKILL left them all running, orphaned. Here the command starts the server itself before
its flow run, points Prefect at it (``PREFECT_API_URL``, inherited by every process it starts,
as ``prefect.testing.utilities.prefect_test_harness`` does for its test server), and registers
the server's process with the reaper of :mod:`pipeline.parallel` as soon as it exists.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from typing import Any

from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, temporary_settings

from pipeline.parallel import end_with_this_process


class TemporaryServer(SubprocessASGIServer):
    """Prefect's server subprocess, registered to end with this process."""

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        process = super()._run_uvicorn_command()
        end_with_this_process(process.pid)
        return process


@contextlib.contextmanager
def temporary_server() -> Iterator[str]:
    """Start the server (or reuse this process's), and run Prefect against it inside the block.

    Made as Prefect's own per-process server (``SubprocessASGIServer()`` returns it from then on),
    stopped by Prefect at exit after its log and event workers are drained.
    """
    server = TemporaryServer()
    server.start()
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url  # for the worker processes started from here
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
