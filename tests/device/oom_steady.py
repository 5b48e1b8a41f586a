# An app that dumps every 20 ms while it works, fragments its heap and hits a MemoryError in the
# middle of the run: many snapshots on each side of the error, for tests of frame merging.
import sys

sys.path.insert(0, "../../device")
import gc, time
import mem_dump

N = 240
keep = [None] * N
for step in range(12):
    keep[step * 20] = bytearray(48)
    mem_dump.mem_dump()
    time.sleep_ms(20)
for i in range(N):
    keep[i] = bytearray(48)
for i in range(0, N, 2):
    keep[i] = None
gc.collect()
mem_dump.mem_dump()
try:
    big = bytearray(4096)
except MemoryError as e:
    sys.print_exception(e)
for step in range(12):
    mem_dump.mem_dump()
    time.sleep_ms(20)
