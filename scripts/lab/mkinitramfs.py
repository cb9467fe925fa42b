#!/usr/bin/python3
"""Build the lab's initramfs: a gzip'd cpio (newc) with a static busybox and /init.

Usage: mkinitramfs.py --busybox /bin/busybox --init scripts/lab/init.sh --out initramfs.cpio.gz

The archive is written here rather than with cpio(1) so that it can hold a
/dev/console device node without root, and so that it is byte-for-byte
reproducible (fixed inode numbers, owners and mtimes).
"""
import argparse
import gzip
import stat
import struct
import sys

MARKER_TEXT = b"b2i-marker-file: held open on fd 3 by b2i_holder\n"
# Symlinks to busybox whose *names* become the processes' comm (see init.sh).
B2I_NAMES = ("b2i_sleeper", "b2i_listener", "b2i_holder")


class Newc:
    """Minimal writer of the cpio 'newc' format the kernel unpacks."""

    def __init__(self):
        self.parts = []
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.ino += 1
        self.parts.append(hdr + name_b)
        self._pad()
        self.parts.append(data)
        self._pad()

    def _pad(self):
        size = sum(len(p) for p in self.parts)
        self.parts.append(b"\0" * (-size % 4))

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, perm=0o644):
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def finish(self):
        self.ino = 0
        self._entry("TRAILER!!!", 0)
        return b"".join(self.parts)


def is_static_elf(data):
    """True for an ELF64 with no PT_INTERP (i.e. not dynamically linked)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def build(busybox, init_script):
    a = Newc()
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root"):
        a.dir(d)
    a.chardev("dev/console", 5, 1)
    a.file("bin/busybox", busybox, 0o755)
    a.symlink("bin/sh", "busybox")
    for name in B2I_NAMES:
        a.symlink("bin/" + name, "busybox")
    a.file("etc/b2i_marker", MARKER_TEXT)
    a.file("init", init_script, 0o755)
    return a.finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.busybox, "rb") as f:
        busybox = f.read()
    if not is_static_elf(busybox):
        sys.exit(f"mkinitramfs: {args.busybox} is not a static ELF64 (install busybox-static)")
    with open(args.init, "rb") as f:
        init_script = f.read()

    with gzip.GzipFile(args.out, "wb", mtime=0) as out:
        out.write(build(busybox, init_script))


if __name__ == "__main__":
    main()
