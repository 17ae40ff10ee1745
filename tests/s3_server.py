"""A real S3-protocol server (moto's) on loopback for the object-storage tests.

``python -m moto.server`` runs as a subprocess on a free loopback port, stopped by its PID.
Dummy credentials are set in ``os.environ`` for the module (pyarrow's S3 client refuses to
sign without some) and restored afterwards; the endpoint is given in each URI
(``?endpoint_override=127.0.0.1:PORT&scheme=http``), as a user would.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from server_process import free_port, stop, wait_for_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Server:
    """The test server: its port and a bucket created on it."""

    port: int
    bucket: str

    def uri(self, key: str) -> str:
        """``s3://bucket/key`` with this server as the endpoint."""
        query = f"endpoint_override=127.0.0.1:{self.port}&scheme=http&region=us-east-1"
        return f"s3://{self.bucket}/{key}?{query}"

    def keys(self, prefix: str) -> list[str]:
        """Every object key under ``prefix`` (recursive), sorted."""
        import pyarrow.fs as pafs

        fs, path = pafs.FileSystem.from_uri(self.uri(prefix))
        infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
        return sorted(i.path for i in infos if i.type == pafs.FileType.File)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A moto S3 server on loopback with the bucket ``instructmine-test``."""
    import pyarrow.fs as pafs

    env = pytest.MonkeyPatch()
    for k, v in CREDENTIALS.items():
        env.setenv(k, v)
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=fh,
            stderr=fh,
        )
    try:
        # importing moto takes minutes on a loaded machine
        wait_for_port(port, proc, log, name="moto server", timeout=240)
        server = S3Server(port, "instructmine-test")
        admin = pafs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{port}",
            scheme="http",
            region="us-east-1",
            allow_bucket_creation=True,
        )
        admin.create_dir(server.bucket)
        yield server
    finally:
        stop(proc)
        env.undo()
