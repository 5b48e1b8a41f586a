# Fills the heap with buffers it keeps, then asks for more than is free: "exhausted".
import sys

sys.path.insert(0, "../../device")
import gc, time
import mem_dump

keep = [None] * 64
for i in range(64):
    try:
        keep[i] = bytearray(600)
    except MemoryError:
        break  # full: not reported, the app expected it
gc.collect()
mem_dump.mem_dump()
time.sleep_ms(100)
ask = gc.mem_free() + 2048
try:
    big = bytearray(ask)
except MemoryError as e:
    print("ERROR:app: MemoryError:", e)
mem_dump.mem_dump()
time.sleep_ms(100)
