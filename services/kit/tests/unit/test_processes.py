import socket
import subprocess
import sys

from shopmesh_kit.testing.processes import free_port, stop


def test_free_port_can_be_listened_on() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()


def test_stop_terminates_a_process() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop(process, timeout=10)
    assert process.returncode == -15  # SIGTERM


def test_stop_kills_a_process_that_ignores_sigterm() -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    stop(process, timeout=0.5)
    process.stdout.close()
    assert process.returncode == -9  # SIGKILL
