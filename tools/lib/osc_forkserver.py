"""A fork server for the openstack CLI, so that a test script's hundreds of commands do not each
pay for starting Python and importing openstackclient, its plugins and the SDK (about a second
each, most of a CLI test's time).

    python osc_forkserver.py serve SOCKET     # imports everything once, then serves SOCKET
    python osc_forkserver.py run SOCKET ARGS  # runs `openstack ARGS` in a fork of the server

`run` sends its argv, environment, working directory and its stdin, stdout and stderr (as file
descriptors) to the server, which forks; the child takes them over and runs the real
`openstackclient.shell.main`, exactly as the `openstack` command would, and its exit status
becomes `run`'s. When the server does not answer, `run` execs the plain `openstack` next to
this Python instead, so the result never depends on the server being there.
"""

import array
import json
import os
import signal
import socket
import struct
import sys

MAX_MESSAGE = 1 << 20


def send_request(sock, argv):
    request = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    fds = array.array("i", [0, 1, 2])
    header = struct.pack("!I", len(request))
    sock.sendmsg([header + request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])


def run(path, argv):
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        send_request(sock, argv)
    except OSError:
        plain = os.path.join(os.path.dirname(sys.executable), "openstack")
        os.execv(plain, [plain] + argv)
    status = b""
    while len(status) < 4:
        chunk = sock.recv(4 - len(status))
        if not chunk:  # the child died without answering
            return 1
        status += chunk
    return struct.unpack("!i", status)[0]


def receive_request(conn):
    fds = array.array("i")
    data, ancdata, _, _ = conn.recvmsg(MAX_MESSAGE, socket.CMSG_LEN(3 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    (length,) = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < length:
        more = conn.recv(length - len(body))
        if not more:
            raise EOFError("short request")
        body += more
    return json.loads(body), list(fds)


def child(conn, shell):
    request, fds = receive_request(conn)
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = ["openstack"] + request["argv"]
    try:
        status = shell.main(request["argv"])
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # what the plain command would print before dying
        import traceback

        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(struct.pack("!i", status or 0))
    os._exit(0)


def preload():
    """Imports what every command needs: the shell, the SDK and every command plugin."""
    from importlib.metadata import distributions

    from openstackclient import shell
    import openstack  # noqa: F401

    for dist in distributions():
        for entry in dist.entry_points:
            if not entry.group.startswith("openstack."):
                continue
            try:
                entry.load()
            except Exception:  # a plugin that cannot load fails its own commands, later
                pass
    try:  # cliff maps modules to distributions for every command's help epilog; once here
        from cliff import command

        command._get_distributions_by_modules()
    except Exception:
        pass
    return shell


def serve(path):
    shell = preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            child(conn, shell)
        conn.close()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
