#!/usr/bin/python3
"""Ground truth of a lab boot: parse the guest's serial log, write truth.json.

Usage:
  truth.py release VMLINUZ          kernel release, from the bzImage header
  truth.py version VMLINUZ          the header's whole version string (release, build, date)
  truth.py text SERIAL_LOG          runtime _text the guest printed (hex), for the KASLR check
  truth.py write --serial LOG --vmlinuz VMLINUZ --raw MEM_RAW --boot N --accel A
                 --attempts K --qemu-cmd FILE --out truth.json

Values printed by the guest go under their own keys; values the host worked
out from them (and from mem.raw) are under "derived", with how.
"""
import argparse
import json
import lzma
import os
import re
import struct
import sys

START_KERNEL_MAP = 0xFFFFFFFF80000000  # x86_64 __START_KERNEL_map
U64 = (1 << 64) - 1
DEBIAN_LINK_TEXT = 0xFFFFFFFF81000000  # __START_KERNEL_map + CONFIG_PHYSICAL_START (0x1000000)


def hx(v):
    return None if v is None else f"0x{v:x}"


# ---- the kernel file ----------------------------------------------------------

def bzimage_version(vmlinuz):
    """The kernel_version string of a bzImage setup header ('6.1.0-56-amd64 (…) #1 SMP …')."""
    with open(vmlinuz, "rb") as f:
        head = f.read(0x10000)
    if head[0x202:0x206] != b"HdrS":
        raise SystemExit(f"{vmlinuz}: not a bzImage (no HdrS)")
    ptr, = struct.unpack_from("<H", head, 0x20E)
    start = ptr + 0x200
    return head[start:head.index(b"\0", start)].decode()


def kernel_release(vmlinuz):
    return bzimage_version(vmlinuz).split()[0]


def find_system_map(vmlinuz):
    """A System.map beside the kernel: REF layout (System.map[.xz]) or /boot layout."""
    d = os.path.dirname(os.path.abspath(vmlinuz))
    base = os.path.basename(vmlinuz)
    names = ["System.map", "System.map.xz"]
    if base.startswith("vmlinuz-"):
        names.insert(0, "System.map-" + base[len("vmlinuz-"):])
    for n in names:
        p = os.path.join(d, n)
        if os.path.exists(p):
            return p
    return None


def read_text_file(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt") as f:
        return f.read()


def link_text(vmlinuz):
    """Link-time address of _text and how it was found."""
    smap = find_system_map(vmlinuz)
    if smap:
        for line in read_text_file(smap).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] == "_text":
                return int(parts[0], 16), f"System.map ({smap})"
    d, base = os.path.split(os.path.abspath(vmlinuz))
    config = os.path.join(d, "config-" + base[len("vmlinuz-"):] if base.startswith("vmlinuz-") else "config")
    if os.path.exists(config):
        m = re.search(r"^CONFIG_PHYSICAL_START=(0x[0-9a-fA-F]+)$", read_text_file(config), re.M)
        if m:
            return START_KERNEL_MAP + int(m.group(1), 16), f"CONFIG_PHYSICAL_START in {config}"
    return DEBIAN_LINK_TEXT, "assumed Debian default (no System.map or config beside the kernel)"


# ---- the serial log -----------------------------------------------------------

def parse_serial(path):
    """Sections of B2I|section|text lines, and whether B2I-READY was seen."""
    sections, ready = {}, False
    with open(path, "rb") as f:
        data = f.read()
    for raw in data.split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if line.startswith("B2I|"):
            _, sec, text = line.split("|", 2)
            sections.setdefault(sec, []).append(text)
        elif line.strip() == "B2I-READY":
            ready = True
    return sections, ready


def parse_kallsyms(lines):
    syms = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            syms[parts[2]] = {"addr": "0x" + parts[0].lower(), "type": parts[1]}
    return syms


def parse_iomem(lines):
    """[(depth, start, end_inclusive, name)] from /proc/iomem."""
    out = []
    for line in lines:
        m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line)
        if m:
            out.append((len(m.group(1)) // 2, int(m.group(2), 16), int(m.group(3), 16), m.group(4)))
    return out


def parse_processes(sections):
    fds = {}
    for line in sections.get("fd", []):
        pid, fd, target = line.split("|", 2)
        fds.setdefault(int(pid), {})[fd] = target
    procs = []
    for line in sections.get("ps", []):
        pid, ppid, state, comm, cmdline = line.split("|", 4)
        args = cmdline.split("\x1f")
        if args and args[-1] == "":
            args.pop()
        procs.append({"pid": int(pid), "ppid": int(ppid), "state": state, "comm": comm,
                      "cmdline": args, "kernel_thread": not args,
                      "fds": fds.get(int(pid), {})})
    return sorted(procs, key=lambda p: p["pid"])


def runtime_text(sections):
    syms = parse_kallsyms(sections.get("kallsyms", []))
    if "_text" not in syms:
        raise SystemExit("truth: _text not in the guest's kallsyms output")
    return int(syms["_text"]["addr"], 16)


# ---- what mem.raw adds --------------------------------------------------------

def read_phys(raw, pa, size):
    with open(raw, "rb") as f:
        f.seek(pa)
        return f.read(size)


def parse_vmcoreinfo_note(blob):
    """KEY=VALUE fields of the ELF note 'VMCOREINFO' at the start of blob."""
    namesz, descsz, _ntype = struct.unpack_from("<III", blob, 0)
    name = blob[12:12 + namesz].rstrip(b"\0")
    if name != b"VMCOREINFO":
        return None
    off = 12 + ((namesz + 3) & ~3)
    text = blob[off:off + descsz].decode("ascii", "replace")
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


def kernel_va_to_pa(va, text_va, text_pa):
    """PA of a kernel-image symbol: the image is physically contiguous from _text."""
    return text_pa + (va - text_va)


# ---- truth.json ---------------------------------------------------------------

def build_truth(args):
    sections, ready = parse_serial(args.serial)
    if not ready:
        raise SystemExit("truth: no B2I-READY in the serial log")
    syms = parse_kallsyms(sections["kallsyms"])
    text_rt = runtime_text(sections)
    text_link, link_src = link_text(args.vmlinuz)
    iomem = parse_iomem(sections["iomem"])
    named = {n: (s, e) for depth, s, e, n in iomem if depth == 1 and n.startswith("Kernel ")}
    ram = [(s, e) for depth, s, e, n in iomem if depth == 0 and n == "System RAM"]
    code_pa = named["Kernel code"][0]

    truth = {
        "format": 1,
        "boot": args.boot,
        "attempts": args.attempts,
        "accel": args.accel,
        "qemu_command": open(args.qemu_cmd).read().strip(),
        "kernel": {
            "vmlinuz": os.path.realpath(args.vmlinuz),
            "release": sections["release"][0],
            "bzimage_version": bzimage_version(args.vmlinuz),
            "banner": sections["version"][0],
            "uname": sections["uname"][0],
            "cmdline": sections["cmdline"][0],
        },
        "kaslr": {
            "text_runtime": hx(text_rt),
            "text_link": hx(text_link),
            "text_link_source": link_src,
            "slide": hx(text_rt - text_link),
            "slide_how": "runtime _text (guest /proc/kallsyms) - link _text",
        },
        "kallsyms": syms,
        "iomem": {
            "system_ram": [[hx(s), hx(e)] for s, e in ram],
            "kernel": {n: [hx(s), hx(e)] for n, (s, e) in named.items()},
            "lines": sections["iomem"],
        },
        "vmcoreinfo": None,
        "processes": parse_processes(sections),
        "listening_tcp": [l.strip() for sec in ("tcp", "tcp6") for l in sections.get(sec, [])
                          if l.split()[3:4] == ["0A"]],
        "derived": {
            "note": "worked out on the host from the guest's values and mem.raw",
            # unsigned long: negative when the kernel sits lower in RAM than linked
            "phys_base": hx((code_pa - (text_rt - START_KERNEL_MAP)) & U64),
            "text_pa": hx(code_pa),
        },
    }

    # Where kernel-image symbols live physically, and the values some hold.
    derived = truth["derived"]
    for name in ("linux_banner", "init_task", "init_top_pgt", "init_uts_ns"):
        if name in syms:
            derived[name + "_pa"] = hx(kernel_va_to_pa(int(syms[name]["addr"], 16), text_rt, code_pa))
    for name in ("page_offset_base", "vmalloc_base", "vmemmap_base"):
        if name in syms:
            pa = kernel_va_to_pa(int(syms[name]["addr"], 16), text_rt, code_pa)
            derived[name] = hx(struct.unpack("<Q", read_phys(args.raw, pa, 8))[0])

    if "vmcoreinfo" in sections:
        pa_s, size_s = sections["vmcoreinfo"][0].split()
        pa, size = int(pa_s, 16), int(size_s, 16)
        fields = parse_vmcoreinfo_note(read_phys(args.raw, pa, size))
        truth["vmcoreinfo"] = {"pa": hx(pa), "size": hx(size),
                               "source": "guest /sys/kernel/vmcoreinfo; fields read from mem.raw at pa",
                               "fields": fields}
        if fields and "KERNELOFFSET" in fields:
            derived["slide_from_vmcoreinfo"] = hx(int(fields["KERNELOFFSET"], 16))

    b2i = {p["comm"]: p["pid"] for p in truth["processes"] if p["comm"].startswith("b2i_")}
    truth["markers"] = {
        "processes": b2i,
        "sleeper": {"comm": "b2i_sleeper", "cmdline": ["sleep", "31337"], "env": "B2I_ENV=b2i-environ-marker"},
        "listener": {"comm": "b2i_listener", "cmdline": ["nc", "-l", "-p", "4444"], "tcp_port": 4444},
        "holder": {"comm": "b2i_holder", "fd": 3, "file": "/etc/b2i_marker"},
    }
    return truth


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "release":
        print(kernel_release(sys.argv[2]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "version":
        print(bzimage_version(sys.argv[2]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "text":
        sections, _ = parse_serial(sys.argv[2])
        print(hx(runtime_text(sections)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["write"])
    for opt in ("--serial", "--vmlinuz", "--raw", "--accel", "--qemu-cmd", "--out"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--boot", type=int, required=True)
    ap.add_argument("--attempts", type=int, required=True)
    args = ap.parse_args()
    truth = build_truth(args)
    with open(args.out, "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
