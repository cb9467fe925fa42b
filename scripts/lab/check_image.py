#!/usr/bin/python3
"""Sanity-check one lab boot directory (mem.raw, mem.elf, mem.lime, mem.avml, truth.json).

Usage: check_image.py DIR        prints one line per check; exit status 1 if any failed

The checks tie the guest's printed ground truth to the bytes of the images:
the banner is where kallsyms + iomem say it is, a page-table walk from
init_top_pgt maps the runtime _text to 'Kernel code', the VMCOREINFO note
agrees on release and KASLR offset, and LiME/AVML/ELF hold the same bytes as
mem.raw.
"""
import json
import os
import struct
import sys

PAGE = 4096
ADDR_MASK = 0x000FFFFFFFFFF000
HEADER = struct.Struct("<IIQQQ")

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


class Raw:
    """mem.raw: file offset == guest-physical address."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.size = os.fstat(self.f.fileno()).st_size

    def read(self, pa, n):
        self.f.seek(pa)
        return self.f.read(n)

    def u64(self, pa):
        return struct.unpack("<Q", self.read(pa, 8))[0]


def walk(raw, cr3, va, levels=4):
    """Translate a kernel VA through the page tables rooted at PA cr3 (4- or 5-level)."""
    table = cr3 & ADDR_MASK
    shifts = [48, 39, 30, 21, 12][5 - levels:]
    for i, shift in enumerate(shifts):
        entry = raw.u64(table + ((va >> shift) & 0x1FF) * 8)
        if not entry & 1:
            return None
        large = shift in (30, 21) and entry & 0x80
        if large or shift == 12:
            return (entry & ADDR_MASK & ~((1 << shift) - 1)) | (va & ((1 << shift) - 1))
        table = entry & ADDR_MASK
    return None


def find_all(path, needle, chunk=64 << 20):
    """File offsets of every occurrence of needle."""
    hits, base, tail = [], 0, b""
    with open(path, "rb") as f:
        while True:
            buf = f.read(chunk)
            if not buf:
                return hits
            data = tail + buf
            i = data.find(needle)
            while i != -1:
                hits.append(base - len(tail) + i)
                i = data.find(needle, i + 1)
            tail = data[-(len(needle) - 1):] if len(needle) > 1 else b""
            base += len(buf)


# ---- checks -------------------------------------------------------------------

def check_kernel(d, truth, raw):
    t = truth["kaslr"]
    der = truth["derived"]
    text_rt = int(t["text_runtime"], 16)
    text_pa = int(truth["iomem"]["kernel"]["Kernel code"][0], 16)
    banner = truth["kernel"]["banner"].encode() + b"\n\0"

    hits = find_all(os.path.join(d, "mem.raw"), banner)
    check("banner bytes in mem.raw", bool(hits), ", ".join(hex(h) for h in hits[:4]))
    b_pa = int(der["linux_banner_pa"], 16)
    check("banner at linux_banner's PA (kallsyms - _text + Kernel code)",
          raw.read(b_pa, len(banner)) == banner, hex(b_pa))

    levels = 4
    vmci = (truth.get("vmcoreinfo") or {}).get("fields") or {}
    if vmci.get("NUMBER(pgtable_l5_enabled)") == "1":
        levels = 5
    pgd = int(der["init_top_pgt_pa"], 16)
    pa = walk(raw, pgd, text_rt, levels)
    check(f"init_top_pgt ({levels}-level) maps runtime _text to 'Kernel code' start",
          pa == text_pa, f"{t['text_runtime']} -> {hex(pa) if pa is not None else None}, expected {hex(text_pa)}")
    b_va = int(truth["kallsyms"]["linux_banner"]["addr"], 16)
    pa = walk(raw, pgd, b_va, levels)
    check("page walk of linux_banner VA finds the banner",
          pa is not None and raw.read(pa, len(banner)) == banner)
    text = raw.read(text_pa, PAGE)
    check("'Kernel code' start holds code (non-zero page)", text.count(0) < PAGE // 2)
    pob = int(der.get("page_offset_base", "0x0"), 16)
    top = 12 + 9 * levels - 1   # highest VA bit the page tables translate: 47, or 56 with LA57
    check("page_offset_base value is a canonical, 1 GiB-aligned kernel address",
          pob >> top == (1 << (64 - top)) - 1 and pob & 0x3FFFFFFF == 0, hex(pob))
    if pob:
        pa = walk(raw, pgd, pob + text_pa, levels)
        check("direct map (page_offset_base + PA) maps back to the same PA", pa == text_pa)

    if vmci:
        check("VMCOREINFO OSRELEASE = release", vmci.get("OSRELEASE") == truth["kernel"]["release"],
              vmci.get("OSRELEASE", "?"))
        check("VMCOREINFO KERNELOFFSET = slide", der.get("slide_from_vmcoreinfo") == t["slide"],
              f"{der.get('slide_from_vmcoreinfo')} vs {t['slide']}")
        phys_base = int(vmci.get("NUMBER(phys_base)", "-1"), 0) & ((1 << 64) - 1)  # printed as %ld
        check("VMCOREINFO phys_base = 'Kernel code' - (_text - __START_KERNEL_map)",
              phys_base == int(der["phys_base"], 16), f"{phys_base:#x} vs {der['phys_base']}")
    else:
        check("VMCOREINFO note read from mem.raw", False, "no vmcoreinfo")


def check_processes(d, truth):
    procs = {p["comm"]: p for p in truth["processes"]}
    for comm in ("b2i_sleeper", "b2i_listener", "b2i_holder"):
        check(f"process {comm} in ground truth", comm in procs)
    holder = procs.get("b2i_holder", {})
    check("b2i_holder holds /etc/b2i_marker on fd 3", holder.get("fds", {}).get("3") == "/etc/b2i_marker")
    check("TCP :4444 listening", any(l.split()[1].endswith(":115C") for l in truth["listening_tcp"]))
    hits = find_all(os.path.join(d, "mem.raw"), b"b2i_sleeper\0")
    check("comm 'b2i_sleeper' bytes in mem.raw", bool(hits), f"{len(hits)} hits")


def elf_segments(path):
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            return None, None
        phoff, = struct.unpack_from("<Q", eh, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
        segs = [struct.unpack_from("<IIQQQQQQ", ph, i * phentsize) for i in range(phnum)]
        notes = []
        for p_type, _fl, off, _va, _pa, filesz, _m, _al in segs:
            if p_type != 4:
                continue
            f.seek(off)
            data, pos = f.read(filesz), 0
            while pos + 12 <= len(data):
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                name = data[pos + 12:pos + 12 + namesz].rstrip(b"\0").decode("ascii", "replace")
                notes.append((name, ntype))
                pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
        return segs, notes


def check_elf(d, truth, raw):
    path = os.path.join(d, "mem.elf")
    segs, notes = elf_segments(path)
    if segs is None:
        check("mem.elf is ELF64", False)
        return
    loads = [s for s in segs if s[0] == 1]
    desc = ", ".join(f"pa {s[4]:#x}+{s[5]:#x}" for s in loads)
    check("mem.elf has PT_LOAD segments with p_paddr", bool(loads), desc)
    text_pa = int(truth["iomem"]["kernel"]["Kernel code"][0], 16)
    same = False
    with open(path, "rb") as f:
        for _t, _fl, off, _va, pa, filesz, _m, _a in loads:
            if pa <= text_pa < pa + filesz:
                f.seek(off + text_pa - pa)
                same = f.read(PAGE) == raw.read(text_pa, PAGE)
    check("mem.elf's page at 'Kernel code' = mem.raw's", same)
    names = sorted({n for n, _ in notes})
    print(f"info mem.elf notes: {names}; VMCOREINFO note {'present' if 'VMCOREINFO' in names else 'absent'}")


def compare_range(raw, f, pa, n, chunk=16 << 20):
    while n:
        k = min(n, chunk)
        if f.read(k) != raw.read(pa, k):
            return False
        pa, n = pa + k, n - k
    return True


def check_lime(d, truth, raw):
    ram = [(int(s, 16), int(e, 16)) for s, e in truth["iomem"]["system_ram"]]
    path = os.path.join(d, "mem.lime")
    got, ok = [], True
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while f.tell() < size:
            magic, ver, s, e, _ = HEADER.unpack(f.read(HEADER.size))
            if (magic, ver) != (0x4C694D45, 1):
                ok = False
                break
            got.append((s, e))
            ok &= compare_range(raw, f, s, e - s + 1)
    check("mem.lime ranges = System RAM, bytes = mem.raw", ok and got == ram,
          ", ".join(f"{s:#x}-{e:#x}" for s, e in got))


def is_zero(raw, start, end, chunk=16 << 20):
    """True if mem.raw is all zero in [start, end)."""
    for pa in range(start, end, chunk):
        n = min(chunk, end - pa)
        if raw.read(pa, n).count(0) != n:
            return False
    return True


def unframe(f, n):
    """Read a snappy framed stream holding n bytes from f; check every chunk's CRC.

    Like Volatility3's reader it stops once n bytes are decoded; returns
    (data, stream length, crc_ok)."""
    import snappy

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from convert import masked_crc32c

    start, out, got, crc_ok = f.tell(), [], 0, True
    while got < n:
        hdr = f.read(4)
        kind, ln = hdr[0], int.from_bytes(hdr[1:], "little")
        body = f.read(ln)
        if kind == 0xFF:
            crc_ok &= body == b"sNaPpY"
            continue
        if kind not in (0x00, 0x01):
            raise ValueError(f"unexpected snappy chunk type {kind:#x}")
        data = snappy.decompress(body[4:]) if kind == 0x00 else body[4:]
        crc_ok &= struct.unpack("<L", body[:4])[0] == masked_crc32c(data)
        out.append(data)
        got += len(data)
    return b"".join(out), f.tell() - start, crc_ok


def check_avml(d, truth, raw):
    path = os.path.join(d, "mem.avml")
    ok, covered = True, []
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while f.tell() < size and ok:
            magic, ver, s, e, pad = HEADER.unpack(f.read(HEADER.size))
            ok = (magic, ver, pad) == (0x4C4D5641, 2, 0)
            n = e - s + 1
            data, stream_len, crc_ok = unframe(f, n)
            trailer, = struct.unpack("<Q", f.read(8))
            # stream_len < n - 1: Volatility3 reads at most end - start stream bytes
            ok &= crc_ok and trailer == stream_len and data == raw.read(s, n) and stream_len < n - 1
            covered.append((s, e))
    # What AVML left out must be all zero in mem.raw.
    gaps_zero = True
    for s, e in ((int(a, 16), int(b, 16)) for a, b in truth["iomem"]["system_ram"]):
        pa = s
        for cs, ce in sorted(c for c in covered if s <= c[0] <= e):
            gaps_zero &= is_zero(raw, pa, cs)
            pa = ce + 1
        gaps_zero &= is_zero(raw, pa, e + 1)
    check("mem.avml blocks decode to mem.raw (CRCs, trailer = compressed length)", ok,
          f"{len(covered)} blocks")
    check("mem.avml leaves out only all-zero RAM", gaps_zero)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    raw = Raw(os.path.join(d, "mem.raw"))
    print(f"info {truth['kernel']['release']} boot{truth['boot']}: _text {truth['kaslr']['text_runtime']}, "
          f"slide {truth['kaslr']['slide']}, Kernel code at {truth['iomem']['kernel']['Kernel code'][0]}")
    check_kernel(d, truth, raw)
    check_processes(d, truth)
    check_elf(d, truth, raw)
    check_lime(d, truth, raw)
    if os.path.exists(os.path.join(d, "mem.avml")):
        check_avml(d, truth, raw)
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
