# memory_error.py - a data logger that dies of fragmentation: `memanim why` explains it.
#
# Run (unix port, from this folder):
#   micropython -X heapsize=48K memory_error.py > memory_error.log 2>&1
#
# Each cycle reads a "sensor" into a 1.5 KB frame buffer, keeps a small summary record of it (a
# tuple and a float list) for the history, and drops the buffer. The summaries are small and
# live forever; each lands in the hole the last buffer left, so the free memory is cut into
# pieces. Every few cycles the app asks for a 6 KB upload buffer; when no free run is long
# enough it gets MemoryError although gc.mem_free() reports more than 6 KB.
# Dumps come from device/mem_dump.py (imported, as on a board): every 150 ms, and right before
# each upload.

import sys

sys.path.insert(0, "../device")
import gc, time
import mem_dump

history = []
PERIOD_MS = 150


def sample(n):
    frame = bytearray(1536)
    for i in range(0, len(frame), 64):
        frame[i] = (n * 7 + i) & 0xFF
    summary = (n, frame[0] + frame[64], [float(n) / 3, float(n) / 7])
    return summary


def upload():
    buf = bytearray(6144)
    buf[0] = 1
    return len(buf)


print("INFO:logger:start, gc.mem_free() =", gc.mem_free())
next_dump = time.ticks_ms()
n = 0
errors = 0
while errors < 3 and n < 400:
    n += 1
    history.append(sample(n))
    if n % 6 == 0:
        mem_dump.mem_dump()  # right before the big allocation, so the dump shows its heap
        try:
            upload()
            print("INFO:uplink:sent", n)
        except MemoryError as e:
            errors += 1
            print("ERROR:uplink: gc.mem_free() =", gc.mem_free())
            sys.print_exception(e)
        gc.collect()
    if time.ticks_diff(time.ticks_ms(), next_dump) >= 0:
        mem_dump.mem_dump()
        next_dump = time.ticks_add(next_dump, PERIOD_MS)
    time.sleep_ms(20)
mem_dump.mem_dump()
print("INFO:logger:stopped after", n, "samples,", errors, "upload failures")
