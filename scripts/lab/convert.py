#!/usr/bin/python3
"""Turn a flat guest-physical dump (mem.raw) into LiME and AVML images.

Usage:
  convert.py lime TRUTH_JSON MEM_RAW OUT.lime
  convert.py avml TRUTH_JSON MEM_RAW OUT.avml

Only the guest's "System RAM" ranges from /proc/iomem (in truth.json) are
written, so the images have the holes a real acquisition has.  mem.raw's
file offset is the guest-physical address (the lab dumps [0, RAM size)).

Formats, as the tools that write them do it:
  LiME v1 (LiME, and Volatility3 layers/lime.py): per range a 32-byte header
    <IIQQQ> magic 0x4C694D45 ("EMiL" on disk), version 1, start, end
    (INCLUSIVE, last byte), 0; then the range's bytes verbatim.
  AVML v2 (microsoft/avml src/image.rs + src/io/snappy.rs): ranges are cut into
    blocks of at most 16 MiB (MAX_BLOCK_SIZE); an all-zero block is left out;
    per block a header <IIQQQ> magic 0x4C4D5641 ("AVML"), version 2, start,
    end (INCLUSIVE: AVML writes range.end - 1), 0; then the block as a snappy
    *framed* stream (stream identifier, then compressed/uncompressed chunks of
    <= 64 KiB with masked CRC-32C); then a u64 LE trailer holding the length
    of that framed stream (the COMPRESSED size, not the uncompressed one).

The snappy framing is written here (raw blocks by python3-snappy's compress,
CRC-32C by python3-crc32c): Debian 12's python3-snappy 0.5.3 cannot frame on
Python 3.11 (its _crc32c raises "PY_SSIZE_T_CLEAN macro must be defined").
"""
import json
import struct
import sys

LIME_MAGIC, AVML_MAGIC = 0x4C694D45, 0x4C4D5641
HEADER = struct.Struct("<IIQQQ")
AVML_MAX_BLOCK = 0x1000 * 0x1000  # 16 MiB, as avml's MAX_BLOCK_SIZE
COPY_CHUNK = 16 << 20


def ram_ranges(truth_path, raw_size):
    """System RAM as [(start, end_inclusive)], checked to lie inside mem.raw."""
    with open(truth_path) as f:
        truth = json.load(f)
    ranges = [(int(s, 16), int(e, 16)) for s, e in truth["iomem"]["system_ram"]]
    for s, e in ranges:
        if e >= raw_size:
            sys.exit(f"convert: System RAM {s:#x}-{e:#x} lies beyond mem.raw ({raw_size:#x} bytes)")
    return ranges


def write_lime(ranges, raw, out):
    for start, end in ranges:
        out.write(HEADER.pack(LIME_MAGIC, 1, start, end, 0))
        raw.seek(start)
        left = end - start + 1
        while left:
            buf = raw.read(min(left, COPY_CHUNK))
            out.write(buf)
            left -= len(buf)


def avml_blocks(ranges):
    """[start, end_exclusive) blocks of at most 16 MiB, cut from each range's start."""
    for start, end_incl in ranges:
        end = end_incl + 1
        while start < end:
            stop = min(end, start + AVML_MAX_BLOCK)
            yield start, stop
            start = stop


def masked_crc32c(data):
    import crc32c  # Debian: python3-crc32c

    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def snappy_frame(data):
    """data as a snappy framed stream, chunked like the snap crate's FrameEncoder."""
    import snappy  # Debian: python3-snappy

    out = [b"\xff\x06\x00\x00sNaPpY"]  # stream identifier chunk
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        packed = snappy.compress(chunk)
        # Like snap: keep the compressed form only if it saves at least 1/8.
        kind, body = (0x00, packed) if len(packed) < len(chunk) - len(chunk) // 8 else (0x01, chunk)
        out.append(struct.pack("<IL", kind | (len(body) + 4) << 8, masked_crc32c(chunk)))
        out.append(body)
    return b"".join(out)


def write_avml(ranges, raw, out):
    written = skipped = 0
    for start, end in avml_blocks(ranges):
        raw.seek(start)
        block = raw.read(end - start)
        if block.count(0) == len(block):
            skipped += 1  # avml's copy_if_nonzero: an all-zero block is not written
            continue
        stream = snappy_frame(block)
        if len(stream) >= len(block) - 1:
            # Volatility3's AVML reader reads at most end-start bytes of stream.
            print(f"convert: warning: AVML block {start:#x} does not compress; "
                  "Volatility3's reader may fail on it", file=sys.stderr)
        out.write(HEADER.pack(AVML_MAGIC, 2, start, end - 1, 0))
        out.write(stream)
        out.write(struct.pack("<Q", len(stream)))
        written += 1
    print(f"convert: avml: {written} blocks written, {skipped} all-zero blocks left out", file=sys.stderr)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("lime", "avml"):
        sys.exit(__doc__)
    kind, truth_path, raw_path, out_path = sys.argv[1:]
    with open(raw_path, "rb") as raw, open(out_path, "wb") as out:
        raw.seek(0, 2)
        ranges = ram_ranges(truth_path, raw.tell())
        (write_lime if kind == "lime" else write_avml)(ranges, raw, out)


if __name__ == "__main__":
    main()
