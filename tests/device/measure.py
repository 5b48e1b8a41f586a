# What one dump costs: bytes allocated on the heap it measures, and time. argv: dumps
import sys

sys.path.insert(0, "../../device")
import gc
import time
import mem_dump

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20
mem_dump.mem_dump()  # the first dump prints the sync line (one time tuple); measure the others


def nothing():
    pass


def run(f):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    t0 = time.ticks_us()
    i = 0
    while i < N:
        f()
        i += 1
    us = time.ticks_diff(time.ticks_us(), t0)
    b = gc.mem_alloc()
    gc.enable()
    return b - a, us


# The same loop around a function that does nothing: the difference is the dump's own cost.
base_bytes, base_us = run(nothing)
dump_bytes, dump_us = run(mem_dump.mem_dump)
heap = gc.mem_alloc() + gc.mem_free()
print("MEASURE heap=%d dumps=%d bytes_allocated=%d us_per_dump=%d"
      % (heap, N, dump_bytes - base_bytes, (dump_us - base_us) // N))
