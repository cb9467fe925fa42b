#!/usr/bin/python3
"""Tiny QMP client: talk to a QEMU started with -qmp unix:SOCKET,server=on,wait=off.

Usage:
  qmp.py SOCKET dump --raw FILE --raw-size BYTES [--elf FILE]
      stop the VM, pmemsave guest-physical [0, BYTES) to FILE, and write an
      ELF core with dump-guest-memory (paging=false); prints timings as JSON
  qmp.py SOCKET quit
  qmp.py SOCKET COMMAND [JSON-ARGS]       any other command; prints the return value
"""
import json
import os
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("rb")
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError(f"unexpected greeting: {greeting}")
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.rfile.readline()
        if not line:
            raise QMPError("QEMU closed the QMP connection")
        return json.loads(line)

    def cmd(self, name, timeout=None, **args):
        """Run one command and return its 'return' value; events are skipped."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        if timeout is not None:
            self.sock.settimeout(timeout)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise QMPError(f"{name}: {reply['error']}")
            return reply.get("return")

    def close(self):
        self.rfile.close()
        self.sock.close()


def timed(fn):
    t = time.monotonic()
    fn()
    return round(time.monotonic() - t, 2)


def dump(q, raw, raw_size, elf):
    """Stop the guest, then write mem.raw (and mem.elf). Paths must be absolute."""
    times = {}
    q.cmd("stop")
    # pmemsave reads through the guest's physical address space; with a RAM
    # size below the PCI hole that is exactly guest RAM plus the legacy
    # 0xa0000-0xfffff window (VGA/BIOS) at the bottom.
    times["pmemsave_s"] = timed(lambda: q.cmd("pmemsave", timeout=900, val=0, size=raw_size,
                                              filename=os.path.abspath(raw)))
    if elf:
        # detach=false: the command returns when the file is complete.
        times["dump_guest_memory_s"] = timed(lambda: q.cmd(
            "dump-guest-memory", timeout=900, paging=False,
            protocol="file:" + os.path.abspath(elf)))
    return times


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    path, command, rest = argv[0], argv[1], argv[2:]
    q = QMP(path)
    try:
        if command == "dump":
            opts = dict(zip(rest[::2], rest[1::2]))
            times = dump(q, opts["--raw"], int(opts["--raw-size"], 0), opts.get("--elf"))
            print(json.dumps(times))
        elif command == "quit":
            try:
                q.cmd("quit")
            except QMPError:
                pass  # QEMU may close the socket before answering
        else:
            args = json.loads(rest[0]) if rest else {}
            print(json.dumps(q.cmd(command, **args)))
    finally:
        q.close()


if __name__ == "__main__":
    main(sys.argv[1:])
