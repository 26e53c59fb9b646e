"""The channel from the test process to `course check`: results that only the checker writes.

The learner's code runs inside the test process (pytest), as the learner. A file named in the
environment is a file that code can write to as well; so the records travel instead over a pipe
that `course check` makes, each line numbered and signed (HMAC-SHA256) with a fresh random key:

- `Listener` (in `course check`) makes two pipes for the child: one carries the key in, once,
  and is closed; the other carries the records out. A line counts only if its signature and its
  number are right; any other byte is tampering, and nothing after it is believed.
- `Sender` (in the report plugin) takes the key when pytest loads the plugin, while it reads its
  command line: before any conftest, test module or learner file is imported. It closes the key's
  pipe, removes the pipes' numbers from the environment, keeps the record pipe out of the
  programs the tests start, and overwrites the key's bytes: only an HMAC state (in OpenSSL) stays.

The plugin's last record says that the session ended, and how; `course check` counts a step
passed only with it, and with a record for every test pytest collected (runner.Session).

What this cannot stop: code in the test process runs as the learner, unisolated, and can do all
that the plugin can (find the HMAC state in memory and sign with it, patch pytest), after
reading this source to learn how. That is deliberate work, written in mygpt/, where a reader
and `course report --verify` (which runs the course's own tests on a copy) see it; an exit(), a
skip, a record written to a file or to this pipe cannot pass a step.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import select
import time

ENV = "LEARNGPT_CHECK_CHANNEL"  # "<key fd>,<record fd>": numbers only, never the key
KEY_BYTES = 32
MAX_LINE = 16 * 2**20  # a record longer than this is not the plugin's (its longest: a few KB)


def _signature(mac, body: bytes) -> bytes:
    signer = mac.copy()
    signer.update(body)
    return signer.hexdigest().encode("ascii")


def _read_key(fd: int) -> bytearray | None:
    """The key from its pipe, into a buffer that can be overwritten (None if it came short)."""
    key, filled = bytearray(KEY_BYTES), 0
    with memoryview(key) as view:
        while filled < KEY_BYTES:
            got = os.readv(fd, [view[filled:]])
            if not got:
                return None
            filled += got
    return key


class Sender:
    """The test process's end: signs and numbers each record, writes it as one line."""

    def __init__(self, mac, fd: int) -> None:
        self._mac, self._fd, self._sent = mac, fd, 0
        self._pid = os.getpid()

    @classmethod
    def from_environment(cls) -> Sender | None:
        """The channel `course check` opened for this process (None outside a check): the key
        is read and its pipe closed, and the environment forgets both pipes."""
        fds = os.environ.pop(ENV, "")
        try:
            key_fd, record_fd = (int(n) for n in fds.split(","))
            key = _read_key(key_fd)
            os.close(key_fd)
            os.set_inheritable(record_fd, False)  # the tests' own child programs never get it
        except (ValueError, OSError):
            return None
        if key is None:
            return None
        mac = hmac.new(key, digestmod="sha256")  # OpenSSL copies the key ...
        key[:] = bytes(KEY_BYTES)  # ... and this copy is overwritten
        return cls(mac, record_fd)

    def send(self, record: dict) -> None:
        if os.getpid() != self._pid:  # a forked child (a claim's second model) reports nothing
            return
        body = json.dumps({**record, "seq": self._sent}).encode("utf-8")
        data = _signature(self._mac, body) + b" " + body + b"\n"
        self._sent += 1
        while data:
            data = data[os.write(self._fd, data) :]


class Listener:
    """`course check`'s end: the key and the pipes, and the records that came through whole."""

    def __init__(self) -> None:
        key = secrets.token_bytes(KEY_BYTES)
        self._mac = hmac.new(key, digestmod="sha256")
        key_read, key_write = os.pipe()
        os.write(key_write, key)  # 32 bytes: a pipe holds them until the child reads
        os.close(key_write)
        self._read, record_write = os.pipe()
        self.child_fds = (key_read, record_write)
        self.records: list[dict] = []
        self.tampered = False
        self._pending = b""
        self._eof = False

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc) -> None:
        self.child_started()
        with contextlib.suppress(OSError):
            os.close(self._read)

    def environment(self) -> dict[str, str]:
        return {ENV: ",".join(str(fd) for fd in self.child_fds)}

    def child_started(self) -> None:
        """Close this process's copies of the child's ends (so that its exit is an end of file)."""
        for fd in self.child_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.child_fds = ()

    def receive(self, wait: float) -> bool:
        """Read what has come, waiting up to `wait` seconds; True if any bytes came."""
        if self._eof:  # every writer closed its end: nothing more will come
            time.sleep(wait)
            return False
        ready, _, _ = select.select([self._read], [], [], wait)
        if not ready:
            return False
        data = os.read(self._read, 2**16)
        self._eof = not data
        self._take(data)
        return bool(data)

    def drain(self, within: float = 1.0) -> None:
        """What is already in the pipe, once the child has ended (a writer that escaped the
        child's process group could go on forever: hence the limit)."""
        deadline = time.monotonic() + within
        while self.receive(0) and time.monotonic() < deadline:
            pass

    def _take(self, data: bytes) -> None:
        if self.tampered:
            return  # nothing after a forged byte is believed (nor kept)
        *lines, self._pending = (self._pending + data).split(b"\n")
        for line in lines:
            self._accept(line)
            if self.tampered:
                break
        if self.tampered or len(self._pending) > MAX_LINE:
            self.tampered, self._pending = True, b""

    def _accept(self, line: bytes) -> None:
        signature, _, body = line.partition(b" ")
        try:
            record = json.loads(body)
        except ValueError:
            record = None
        genuine = (
            hmac.compare_digest(signature, _signature(self._mac, body))
            and isinstance(record, dict)
            and record.pop("seq", None) == len(self.records)
            and not self.ended
        )
        if genuine:
            self.records.append(record)
        else:
            self.tampered = True

    @property
    def ended(self) -> dict | None:
        """The plugin's last record (the session ended; its exit status), if it came."""
        last = self.records[-1] if self.records else {}
        return last if last.get("kind") == "end" else None
