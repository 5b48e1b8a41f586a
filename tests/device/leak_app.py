# Leaks or not, for the stats test. argv: "leak" or "steady"
import sys

sys.path.insert(0, "../../device")
import asyncio, gc
import mem_dump

LEAK = sys.argv[1] == "leak"
kept = []


async def app():
    n = 0
    while True:
        n += 1
        buf = bytearray(96)
        if LEAK:
            kept.append(buf)  # the bug: nothing ever removes these
        else:
            kept.append(buf)
            if len(kept) > 20:
                kept.pop(0)
        if n % 10 == 0:
            gc.collect()
        await asyncio.sleep_ms(20)


async def main():
    # Let start-up allocations settle before measuring.
    t = asyncio.create_task(app())
    await asyncio.sleep_ms(500)
    gc.collect()
    await mem_dump.start_async(100)
    await asyncio.sleep_ms(4000)
    mem_dump.stop()
    t.cancel()


asyncio.run(main())
