"""Sandbox bootstrap: runs first inside the sandbox, sets the jail up, then runs the program.

Standalone and stdlib-only: the parent starts it as ``python -I _sandbox_boot.py`` (inside
``unshare`` namespaces when available) and sends a JSON config on stdin. Steps: (1) in a
private mount namespace, mount fresh size-limited tmpfs over the world-writable directories and
remount every other mount read-only; (2) make an empty scratch directory holding the program;
(3) set resource limits; (4) drop to an unprivileged uid/gid; (5) with a scrubbed environment,
``execve`` a fresh ``python -I`` on the program (or, when namespaces are unavailable, install an
audit hook that blocks sockets, process spawning and writes outside the scratch directory, and
run the program in this interpreter).
"""

import contextlib
import ctypes
import ctypes.util
import json
import os
import resource
import sys
import tempfile

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
WRITABLE = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")
KEEP_RW = ("/proc", "/sys", "/dev")


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(libc, src, target, fstype, flags, data):
    def enc(s):
        return s.encode() if s is not None else None

    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _jail_filesystem(tmpfs_mb):
    libc = _libc()
    with open("/proc/self/mounts") as fh:
        targets = [line.split()[1].replace("\\040", " ") for line in fh]
    for target in sorted(set(targets)):
        if target in WRITABLE or any(target == k or target.startswith(k + "/") for k in KEEP_RW):
            continue
        # some pseudo mounts refuse; the unprivileged uid still cannot write there
        with contextlib.suppress(OSError):
            _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
    for target in WRITABLE:
        if os.path.isdir(target):
            _mount(
                libc, "tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode=1777"
            )


def _expose_python(prefix):
    """Make the interpreter's install prefix reachable for the unprivileged uid.

    When an ancestor of ``prefix`` is not world-searchable (e.g. ``/root`` with pyenv), mount a
    fresh tmpfs over that ancestor (hiding the rest of it) and bind the prefix back, read-only.
    """
    libc = _libc()
    parts = prefix.strip("/").split("/")
    closed = None
    for i in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:i])
        if not os.stat(path).st_mode & 0o001:
            closed = path
            break
    if closed is None:
        return
    staging = tempfile.mkdtemp(prefix=".python-", dir="/tmp")
    _mount(libc, prefix, staging, None, MS_BIND | MS_REC, None)
    _mount(libc, "tmpfs", closed, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    os.makedirs(prefix, mode=0o755, exist_ok=True)
    _mount(libc, staging, prefix, None, MS_BIND | MS_REC, None)
    _mount(libc, None, prefix, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)


def _limits(cfg):
    mb = 1024 * 1024
    cpu = int(cfg["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (cfg["memory_mb"] * mb, cfg["memory_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["file_size_mb"] * mb, cfg["file_size_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_NPROC, (cfg["max_processes"], cfg["max_processes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def _audit_guard(scratch):
    """Fallback when namespaces are unavailable: refuse network, spawning and outside writes."""
    blocked = {
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.getaddrinfo",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.remove",
        "os.rmdir",
        "os.rename",
        "shutil.rmtree",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.link",
        "os.symlink",
        "ctypes.dlopen",
        "os.putenv",
    }
    root = os.path.realpath(scratch)

    def hook(event, args):
        if event in blocked:
            inside = event.startswith(("os.remove", "os.rmdir", "os.rename")) and all(
                os.path.realpath(str(a)).startswith(root + os.sep)
                for a in args[:2]
                if isinstance(a, (str, bytes, os.PathLike))
            )
            if not inside:
                raise PermissionError(f"sandbox: {event} is not allowed")
        elif event == "open" and len(args) > 1:
            mode, path = args[1], args[0]
            if isinstance(path, (str, bytes, os.PathLike)):
                real = os.path.realpath(os.fsdecode(path))
                if real.startswith("/proc/") and not real.startswith(f"/proc/{os.getpid()}/"):
                    raise PermissionError(f"sandbox: reading {real} is not allowed")
            if mode is None:
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(mode, int) and mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
            if writing and isinstance(path, (str, bytes, os.PathLike)):
                real = os.path.realpath(os.fsdecode(path))
                if not real.startswith(root + os.sep):
                    raise PermissionError(f"sandbox: writing {real} is not allowed")

    sys.addaudithook(hook)


def main():
    cfg = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    if cfg["namespaces"]:
        _jail_filesystem(cfg["tmpfs_mb"])
        _expose_python(cfg["python_prefix"])
    scratch = tempfile.mkdtemp(prefix="sandbox-", dir="/tmp" if cfg["namespaces"] else None)
    prog = os.path.join(scratch, "program.py")
    with open(prog, "w", encoding="utf-8") as fh:
        fh.write(cfg["program"])
    uid, gid = cfg["uid"], cfg["gid"]
    if os.geteuid() == 0 and uid is not None:
        os.chown(scratch, uid, gid)
        os.chown(prog, uid, gid)
    _limits(cfg)
    if os.geteuid() == 0 and uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.chdir(scratch)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": scratch, "TMPDIR": scratch}
    if cfg["namespaces"]:
        python = cfg["python"]
        os.execve(python, [python, "-I", "-B", prog], env)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = [prog]
    sys.path.insert(0, scratch)
    code = compile(cfg["program"], prog, "exec")
    _audit_guard(scratch)
    exec(code, {"__name__": "__main__", "__file__": prog})


if __name__ == "__main__":
    main()
