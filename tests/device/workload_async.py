# An asyncio app with mem_dump.start_async, run by tests/device.rs on the real unix port.
# argv: period_ms run_ms
import sys

sys.path.insert(0, "../../device")
import asyncio
import time
import mem_dump

PERIOD = int(sys.argv[1]) if len(sys.argv) > 1 else 200
RUN_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
store = []


async def worker():
    n = 0
    while True:
        n += 1
        store.append(bytearray(64 + (n % 7) * 32))
        if len(store) > 40:
            del store[:20]
        if n % 10 == 0:
            mem_dump.log("INFO:worker:step %d, %d buffers" % (n, len(store)))
        if n % 25 == 0:
            print("plain print from the app, step", n)
        await asyncio.sleep_ms(30)


async def main():
    print("workload starting")
    task = await mem_dump.start_async(PERIOD)
    assert task is not None
    w = asyncio.create_task(worker())
    await asyncio.sleep_ms(RUN_MS)
    mem_dump.stop()
    mem_dump.log("dumps stopped")
    await asyncio.sleep_ms(3 * PERIOD)
    w.cancel()
    print("workload done")


asyncio.run(main())
