"""A throw-away PostgreSQL cluster of a test's own: ``initdb`` + ``pg_ctl`` in a temp dir on
a free loopback port (as scripts/test.sh does), run as user ``postgres`` when we are root.

Besides start and stop it can freeze the whole cluster (SIGSTOP to the postmaster and every
backend) and thaw it again, to stand in for a database that stalls: connections are accepted
by the kernel but never answered, and queries already sent never return."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.hall_server import free_port


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    dirs = sorted(
        (Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin") if Path(d, "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return dirs[-1] if dirs else None


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc (no pgrep needed)."""
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:  # the process ended meanwhile
            continue
        # pid (comm) state ppid …; comm may contain spaces and parentheses
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(stat.split("/")[2]))
    return out


@dataclass
class PgCluster:
    root: Path
    bin: Path
    port: int = 0
    stopped_pids: list[int] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PgCluster:
        self.port = free_port()
        subprocess.run(
            [
                *_as_postgres(),
                str(self.bin / "initdb"),
                *("-A", "trust", "-U", "postgres", "-D", str(self.data)),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            [
                *_as_postgres(),
                str(self.bin / "pg_ctl"),
                *("-D", str(self.data), "-w", "-l", str(self.root / "log"), "-o", opts, "start"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return self

    def create_database(self) -> str:
        """A fresh database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"hall_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster first (so it forks nothing new), then every child."""
        top = self.postmaster_pid()
        os.kill(top, signal.SIGSTOP)
        self.stopped_pids.append(top)
        for _ in range(2):  # a child forked just before the stop shows up on the 2nd scan
            for pid in _children(top):
                if pid not in self.stopped_pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                        self.stopped_pids.append(pid)
        return list(self.stopped_pids)

    def thaw(self) -> None:
        """SIGCONT everything frozen (and the postmaster's children, to be sure)."""
        pids = list(self.stopped_pids)
        with contextlib.suppress(OSError, ValueError, IndexError):
            top = self.postmaster_pid()
            pids += [top, *_children(top)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.stopped_pids.clear()

    def stop(self) -> None:
        self.thaw()
        if self.data.exists():
            subprocess.run(
                [
                    *_as_postgres(),
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    """Start a cluster; the caller stops it (``PgCluster.stop``) in a finally/teardown."""
    binary = pg_bin()
    if binary is None:
        raise RuntimeError("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="govhall-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    cluster = PgCluster(root, binary)
    try:
        return cluster.start()
    except BaseException:
        cluster.stop()
        raise
