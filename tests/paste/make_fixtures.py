#!/usr/bin/env python3
"""Writes the pasted-dump fixtures of tests/paste.rs from real MicroPython output.

Run from the repository root with the unix port installed (.ci/run puts it in target/mpy-venv):

    python3 tests/paste/make_fixtures.py

Each fixture is one way a mem_info dump reaches memanim without the @@@ markers of
device/mem_dump.py, as ../FORMAT notes list them: a REPL session, a probe's or a terminal's prefix on
every line, only the table, only the figures, an ESP32 split heap, a Frag: histogram, a paste cut
off mid-row inside markdown fences, a capture that spans a reset, marked dumps mixed with a paste.
The dumps themselves are what the unix port printed (32-byte blocks); the ESP32 and Frag: ones,
which the unix port cannot print, are built here in the format FORMAT.md gives (16-byte blocks).
The script is kept so the fixtures can be made again; the tests read the committed files.
"""

import os
import pty
import select
import subprocess
import sys
import time

MPY = os.environ.get("MEMANIM_MICROPYTHON", "target/mpy-venv/bin/micropython")
HERE = os.path.dirname(os.path.abspath(__file__))

# Three states of a small heap: allocations of every common kind, then holes.
WORKLOAD = r"""
import micropython, gc
keep = []
def step(i):
    for j in range(3 + i):
        keep.append(bytearray(40 + 20 * j))
        keep.append("s%d" % (j * 1000))
        keep.append({"k": j})
    if i % 2:
        for k in range(len(keep) - 1, -1, -3):
            keep.pop(k)
    gc.collect()
for i in range(STEPS):
    step(i)
    print("----")
    micropython.mem_info(1)
"""


def dumps(heap="8K", steps=3):
    """mem_info(1) outputs of the workload, each a list of lines (no markers)."""
    src = WORKLOAD.replace("STEPS", str(steps))
    out = subprocess.run([MPY, "-X", "heapsize=" + heap, "-c", src], capture_output=True,
                         text=True, check=True).stdout
    return [d.strip("\n").split("\n") for d in out.split("----\n")[1:]]


def is_table_line(line):
    """The layout header, a row (hex offset and ':') or a free-lines marker."""
    head = line.split(":", 1)[0]
    return (line.startswith("GC memory layout") or line.startswith("       (")
            or (len(head) in (5, 8) and all(c in "0123456789abcdef" for c in head)))


def table_of(lines):
    i = next(k for k, l in enumerate(lines) if l.startswith("GC memory layout"))
    return lines[i:]


def repl(commands, heap="16K"):
    """A REPL session on a pseudo-terminal, as a serial terminal shows it (CRLF)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(MPY, [MPY, "-X", "heapsize=" + heap])
    out = b""

    def read(t=0.6):
        nonlocal out
        end = time.time() + t
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return

    read()
    for c in commands:
        os.write(fd, c.encode() + b"\r")
        read()
    os.write(fd, b"\x04")
    read()
    os.waitpid(pid, 0)
    return out.decode()


def write(name, text):
    """Writes the text as it is: LF, or the CRLF a terminal gave."""
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write(text)


def esp32_blocks(n, seed):
    """ESP32-like block characters for an area of n 16-byte blocks."""
    kinds = "hhhSSLDTAF"
    out, i, r = [], 0, seed
    while len(out) < n:
        r = (r * 1103515245 + 12345) & 0x7FFFFFFF
        if r % 3 == 0:
            out += ["."] * (1 + r % 7)
        else:
            out += [kinds[r % len(kinds)]] + ["="] * (r % 4)
    return "".join(out[:n])


def esp32_area(ptr, blocks):
    rows = []
    for off in range(0, len(blocks), 64):
        rows.append("%08x: %s" % (off * 16, blocks[off:off + 64]))
    return ["GC memory layout; from %x:" % ptr] + rows


def esp32_dump(areas, split):
    """The summary lines gc_info prints for these areas (counts as py/gc.c makes them), then the tables."""
    total = sum(len(b) for _, b in areas) * 16
    used = sum(len(b) - b.count(".") for _, b in areas) * 16

    lens = []
    for _, b in areas:
        k = 0
        while k < len(b):
            if b[k] not in ".=":
                n = 1
                while k + n < len(b) and b[k + n] == "=":
                    n += 1
                lens.append(n)
                k += n
            else:
                k += 1
    free_runs = [len(r) for _, b in areas for r in "".join(c if c == "." else " " for c in b).split()]
    lines = ["stack: 1264 out of 15360",
             "GC: total: %d, used: %d, free: %d, max new split: %d" % (total, used, total - used, split),
             " No. of 1-blocks: %d, 2-blocks: %d, max blk sz: %d, max free sz: %d"
             % (lens.count(1), lens.count(2), max(lens), max(free_runs))]
    for ptr, b in areas:
        lines += esp32_area(ptr, b)
    return lines


def main():
    d = dumps()
    big = dumps("16K", 4)

    # 1. A REPL session: banner, prompts, mem_info() then mem_info(1), a MemoryError.
    write("repl_session.txt", repl([
        "import micropython, gc",
        "micropython.mem_info()",
        "x = [bytearray(100) for i in range(20)]",
        "gc.mem_free()",
        "micropython.mem_info(1)",
        "x = x[1::2]",
        "gc.collect()",
        "micropython.mem_info(1)",
        "bytearray(15000)",
    ]))

    # 2. SEGGER RTT viewer: " 0> " before every line; a blank line is " 0> " alone.
    rtt = ["app: start"] + d[0] + [""] + ["app: tick"] + d[1]
    write("rtt_prefix.txt", "".join(" 0> %s\n" % l for l in rtt))

    # 3. A serial monitor's time on every line, across midnight.
    stamps = ["23:59:58.100", "23:59:59.600", "00:00:02.100"]
    out = []
    for k, (t, dump) in enumerate(zip(stamps, d)):
        out.append("[%s] >>> micropython.mem_info(1)" % t)
        out += ["[%s] %s" % (t, l) for l in dump]
        out.append("[%s] app: step %d done" % (t, k))
    write("serial_stamps.txt", "\n".join(out) + "\n")

    # 4. The Arduino IDE's serial monitor: "12:01:02.345 -> ".
    out = []
    for t, dump in zip(["12:01:02.345", "12:01:03.345"], d):
        out += ["%s -> %s" % (t, l) for l in dump]
    write("arduino_arrow.txt", "\n".join(out) + "\n")

    # 5. Only tables: rows copied from the middle of a dump, then a header and rows without figures.
    rows = [l for l in table_of(big[2])[1:]]
    out = ["Here is the middle of the layout, the first rows were too long to paste:", ""]
    out += rows[1:]
    out += ["", "and the next one:", ""] + table_of(big[3])
    write("table_only.txt", "\n".join(out) + "\n")

    # 6. Only figures: micropython.mem_info() three times, no table anywhere.
    out = []
    for dump in d:
        out.append(">>> micropython.mem_info()")
        out += [l for l in dump if not is_table_line(l)]
    out.append(">>> ")
    write("figures_only.txt", "\n".join(out) + "\n")

    # 7. ESP32 (v1.21+): 16-byte blocks, "max new split", areas added between dumps.
    a1, a2, a3 = 0x3FFB2E40, 0x3FFCA000, 0x3F800000
    first = [(a1, esp32_blocks(640, 1)), (a2, esp32_blocks(448, 2))]
    second = [(a1, esp32_blocks(640, 3)), (a2, esp32_blocks(448, 4)), (a3, esp32_blocks(1024, 5))]
    out = [">>> micropython.mem_info(1)"] + esp32_dump(first, 4186112)
    out += [">>> buf = bytearray(12000)", ">>> micropython.mem_info(1)"] + esp32_dump(second, 4169728)
    out.append(">>> ")
    write("esp32_split.txt", "\n".join(out) + "\n")

    # 8. Non-mainline firmware: a Frag: histogram after the layout header, instead of the rows.
    dump = [l for l in d[1] if not is_table_line(l) or l.startswith("GC memory")]
    out = dump + ["Frag: 1:19 2:3 3:1 4:0 8:2 16:1 32:0 64:1 128:1"]
    write("frag_histogram.txt", "\n".join(out) + "\n")

    # 9. A paste in markdown fences, cut off in the middle of a row.
    full = big[1]
    row = next(k for k, l in enumerate(full) if l.startswith("00000800:"))
    cut = full[:row] + [full[row][:40]]
    out = ["My board crashes after a while, here is mem_info:", "", "```"] + big[0] + ["```", "", "later:", "```"] + cut
    write("cut_paste.txt", "\n".join(out) + "\n")

    # 10. A marked capture that spans a reset: the last dump of the first boot is cut off by
    # "MPY: soft reboot"; the second boot has its own heap (another pointer and size).
    s1 = dumps("8K", 3)
    s2 = dumps("16K", 2)
    out = ["app: starting", "@@@ 1000 (2026, 11, 25, 21, 4, 21, 2, 329)"]
    t = 1000
    for dump in s1[:2]:
        out += ["@@@ %d" % t] + dump + ["@@@"]
        t += 350
    out += ["@@@ %d" % t] + s1[2][:8]
    out += ["MPY: soft reboot", "MicroPython v1.24.1 on 2024-11-29; ESP32 module with ESP32", "Type \"help()\" for more information.",
            "app: starting", "@@@ 420 (2026, 11, 25, 21, 9, 3, 2, 329)"]
    t = 420
    for dump in s2:
        out += ["@@@ %d" % t] + dump + ["@@@"]
        t += 350
    write("resets.txt", "\n".join(out) + "\n")

    # 11. Marked dumps with a dump pasted by hand between them (no markers, no time).
    out = ["@@@ 5000 (2026, 11, 25, 21, 4, 21, 2, 329)", "@@@ 5000"] + d[0] + ["@@@", "app: let me check by hand",
           ">>> micropython.mem_info(1)"] + d[1] + [">>> ", "@@@ 5350"] + d[2] + ["@@@"]
    write("mixed.txt", "\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())
