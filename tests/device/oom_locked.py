# Allocation while the heap is locked (as in a hard IRQ): MemoryError with plenty free.
import sys
sys.path.insert(0, "../../device")
import micropython, mem_dump
mem_dump.mem_dump()
micropython.heap_lock()
try:
    x = bytearray(64)
except MemoryError as e:
    micropython.heap_unlock()
    sys.print_exception(e)
micropython.heap_unlock()
mem_dump.mem_dump()
