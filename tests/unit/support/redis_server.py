"""Start a real redis-server (Debian package ``redis-server``) for a test, then stop it.

    with RedisServer(password="s3cret") as server:
        server.url, server.port, server.client()   # redis.Redis with the password

No persistence unless ``server_args`` asks for it (e.g. the manifest's AOF options),
bound to 127.0.0.1 on a free port (the suite's own `free_port`), data dir in a temp dir that ``restart()`` keeps.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common.process import spawn, terminate
from fixtures.infra.portforward import free_port
from fixtures.waits import WaitTimeout, wait_until

MISSING = ("redis-server not found on PATH ({exe!r}): the unit tests need a real Redis; "
           "install the Debian package `redis-server` (apt-get install -y redis-server)")


class RedisServer:
    def __init__(self, password: str = "unit-test-pw", executable: str = "redis-server",
                 startup_timeout: float = 10.0, server_args: tuple[str, ...] = ("--save", "", "--appendonly", "no"),
                 username: str = "", tls=None):
        self.password = password
        self.username = username  # an ACL user defined by server_args (else `default` with requirepass)
        self.tls = tls  # fixtures.sut.redis_tls.RedisTLS: TLS only, the server certificate signed by tls.ca
        self.server_args = tuple(server_args)
        self.executable = executable
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.tmpdir: str | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/0"

    def env(self) -> dict[str, str]:
        """The worker.config variables that point at this server."""
        env = {"REDIS_HOST": self.host, "REDIS_PORT": str(self.port), "REDIS_DB": "0", "REDIS_PASSWORD": self.password}
        if self.username:
            env["REDIS_USERNAME"] = self.username
        if self.tls:
            env |= {"REDIS_TLS": "true", "REDIS_CA_FILE": str(self.tls.ca)}
        return env

    def client(self, username: str | None = None, password: str | None = None, **kw):
        import redis
        if self.tls:
            kw |= {"ssl": True, "ssl_ca_certs": str(self.tls.ca), "ssl_cert_reqs": "required"}
        return redis.Redis(host=self.host, port=self.port, username=username or self.username or None,
                           password=self.password if password is None else password, **kw)

    def start(self) -> RedisServer:
        exe = shutil.which(self.executable)
        if exe is None:
            raise RuntimeError(MISSING.format(exe=self.executable))
        if self.tmpdir is None:
            self.tmpdir = tempfile.mkdtemp(prefix="unit-redis-")
        self.port = self.port or free_port()
        self.log = Path(self.tmpdir, "redis.log")
        ports = (["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.tls.cert),
                  "--tls-key-file", str(self.tls.key), "--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"]
                 if self.tls else ["--port", str(self.port)])
        auth = [] if self.username else ["--requirepass", self.password]
        args = [exe, *ports, "--bind", self.host, "--dir", self.tmpdir, *auth, *self.server_args,
                "--daemonize", "no", "--logfile", str(self.log)]
        self.proc = spawn(args, stdout=subprocess.DEVNULL)

        def answers() -> bool:
            if self.proc.poll() is not None:
                log = self.log.read_text() if self.log.exists() else ""
                self.stop()
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log[-2000:]}")
            return bool(self.client(socket_timeout=1).ping())

        try:
            wait_until(f"redis-server on port {self.port} to answer PING", answers, bool,
                       timeout=self.startup_timeout, interval=0.05, progress_every=None)
        except WaitTimeout:
            self.stop()
            raise
        return self

    def _stop_process(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            terminate(self.proc, grace=5)  # SIGTERM, as the kubelet stops the pod: Redis flushes its AOF and exits

    def restart(self, down_for: float = 0.0) -> RedisServer:
        """Stop and start again on the same port and data dir, as a replaced pod with its volume."""
        self._stop_process()
        time.sleep(down_for)
        return self.start()

    def stop(self) -> None:
        self._stop_process()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
