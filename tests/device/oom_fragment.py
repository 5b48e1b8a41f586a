# Fragments the heap, then asks for more than any free run holds: "fragmented".
# Many small buffers, every other one freed, so about half the heap is free in short runs.
import sys

sys.path.insert(0, "../../device")
import gc, time
import mem_dump

N = 240
keep = [None] * N
gc.collect()
for i in range(N):
    keep[i] = bytearray(48)
for i in range(0, N, 2):
    keep[i] = None
gc.collect()
print("app: freed every other buffer; gc.mem_free() =", gc.mem_free())
mem_dump.mem_dump()
time.sleep_ms(100)
try:
    big = bytearray(4096)
except MemoryError as e:
    sys.print_exception(e)
mem_dump.mem_dump()
time.sleep_ms(100)
