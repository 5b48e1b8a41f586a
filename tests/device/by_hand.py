# The README's "by hand" recipe, as written there: three dumps within milliseconds.
import sys

sys.path.insert(0, "../../device")
import gc
import mem_dump

mem_dump.mem_dump()                      # before
cache = [bytearray(256) for _ in range(20)]
mem_dump.mem_dump()                      # after allocating
del cache
gc.collect()
mem_dump.mem_dump()                      # after collecting
