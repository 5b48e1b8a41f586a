# The heap is fragmented (long-lived records between freed buffers) and, at the moment of the
# dump, also full of garbage (temporary strings not yet collected). The dump is taken right
# before the failing allocation; MicroPython collects before raising MemoryError, so the real
# cause is fragmentation, not exhaustion.
import sys
sys.path.insert(0, "../../device")
import gc, mem_dump
hist = []
for n in range(1, 200):
    buf = bytearray(1024)
    hist.append((n, float(n) * 0.5))
    buf = None
    if n % 3 == 0:
        gc.collect()
gc.collect()
mem_dump.mem_dump()          # clean: fragmented heap
print("INFO:app: free after collect", gc.mem_free())
g = None
for i in range(400):         # garbage: fills the free space, nothing keeps it
    g = "tmp %d" % i + "z" * 40
g = None
mem_dump.mem_dump()          # the dump right before the failing allocation
try:
    big = bytearray(10240)
    print("INFO:app: got 10240")
except MemoryError as e:
    sys.print_exception(e)
mem_dump.mem_dump()          # after: the collection the failed allocation ran
