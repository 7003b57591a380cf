"""A real Kubernetes control plane for validation: etcd and kube-apiserver
(built from the Go module proxy into .bin/ by `make kube-tools`) on loopback,
in the style of controller-runtime's envtest. No controllers or nodes run, so
nothing is ever scheduled; what it gives is the API server's own judgement:
schemas, CRD validation (including CEL rules), defaulting, and admission,
notably Pod Security.

    with ControlPlane(bin_dir, work_dir) as cluster:
        cluster.kubectl("apply", "--dry-run=server", "-f", "x.yaml")
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from shopmesh_kit.testing.processes import free_port, stop


class ControlPlane:
    def __init__(self, bin_dir: Path, work_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.work_dir = work_dir
        self.kubeconfig = work_dir / "kubeconfig"
        self._processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[BinaryIO] = []

    def __enter__(self) -> ControlPlane:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run .bin/kubectl against this control plane; raise with its output on failure."""
        result = subprocess.run(  # noqa: S603 - our built kubectl, our arguments
            [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.work_dir / f"{name}.log").open("wb")
        self._logs.append(log)
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - .bin/
        self._processes.append(process)

    def _start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        etcd_client, etcd_peer, api_port = free_port(), free_port(), free_port()
        self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--data-dir", str(self.work_dir / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{etcd_client}",
                "--advertise-client-urls", f"http://127.0.0.1:{etcd_client}",
                "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                "--initial-cluster", f"default=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",
                "--log-level", "warn",
            ],
        )  # fmt: skip

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.work_dir / "sa.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (self.work_dir / "sa.pub").write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        token = secrets.token_hex(16)
        (self.work_dir / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
        self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                "--etcd-servers", f"http://127.0.0.1:{etcd_client}",
                "--bind-address", "127.0.0.1",
                "--advertise-address", "127.0.0.1",
                "--secure-port", str(api_port),
                "--cert-dir", str(self.work_dir / "certs"),
                "--token-auth-file", str(self.work_dir / "tokens.csv"),
                "--authorization-mode", "RBAC",
                "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file", str(self.work_dir / "sa.pub"),
                "--service-account-signing-key-file", str(self.work_dir / "sa.key"),
                "--service-cluster-ip-range", "10.96.0.0/16",
                # Loopback cannot be the kubernetes Service's endpoint.
                "--endpoint-reconciler-type", "none",
                # Privileged containers are allowed by the server itself, so a
                # rejection can only come from Pod Security admission.
                "--allow-privileged=true",
            ],
        )  # fmt: skip
        self.kubeconfig.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
- name: verify
  cluster:
    server: https://127.0.0.1:{api_port}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: {token}
contexts:
- name: verify
  context: {{cluster: verify, user: admin}}
current-context: verify
"""
        )
        os.chmod(self.kubeconfig, 0o600)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args!r} exited; see the logs in {self.work_dir}")
            result = self.kubectl("get", "--raw", "/readyz", check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"kube-apiserver not ready after {timeout}s: {result.stderr}")
            time.sleep(0.5)

    def _stop(self) -> None:
        for process in reversed(self._processes):
            stop(process, timeout=20)
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
