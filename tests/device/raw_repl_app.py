# A short app for the raw-REPL test: four dumps with the dumper inlined, as mpremote would run it.
import micropython, time

print("@@@", time.ticks_ms(), time.localtime()[:8])
keep = []
for i in range(4):
    keep.append(bytearray(200 * (i + 1)))
    print("@@@", time.ticks_ms())
    micropython.mem_info(1)
    print("@@@")
    print("INFO:app:step", i)
    time.sleep_ms(20)
