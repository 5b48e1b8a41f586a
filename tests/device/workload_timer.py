# mem_dump.start_timer with the Timer test double, and the schedule-queue-full case.
# argv: period_ms run_ms
import sys

sys.path.insert(0, "../../device")
import micropython
import time
import mem_dump
import timer_double

PERIOD = int(sys.argv[1]) if len(sys.argv) > 1 else 100
RUN_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 1500

print("timer workload starting")
t = mem_dump.start_timer(PERIOD, timer=timer_double.Timer)
junk = []
start = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), start) < RUN_MS:
    junk.append(bytes(48))
    if len(junk) > 30:
        junk = junk[15:]
    time.sleep_ms(5)  # scheduled dumps run here, between bytecodes of the main thread
mem_dump.stop()
fired = t.fired
time.sleep_ms(3 * PERIOD)
print("timer fired", fired, "skipped", mem_dump.skipped())

# The queue-full case: while a scheduled callback runs, the scheduler is locked, so callbacks
# scheduled from inside it pile up. Fill the queue, then let a timer tick arrive.
result = []


def noop(_):
    pass


def filler(_):
    n = 0
    try:
        for _ in range(64):
            micropython.schedule(noop, None)
            n += 1
    except RuntimeError:
        pass
    before = mem_dump.skipped()
    mem_dump._tick(None)  # what the timer interrupt calls
    result.append((n, mem_dump.skipped() - before, mem_dump._pending))


mem_dump._pending = False
micropython.schedule(filler, None)
time.sleep_ms(50)
n, skipped, pending = result[0]
print("queue full after", n, "skipped", skipped, "pending", pending)

# out= needs os.dupterm, which the unix port lacks: a clear error, and nothing left running.
class Sink:
    def write(self, b):
        return len(b)


try:
    mem_dump.start_timer(PERIOD, out=Sink(), timer=timer_double.Timer)
    print("out accepted")
except OSError as e:
    print("out refused:", e.args[0])
print("running after refusal:", mem_dump._timer is not None)
print("timer workload done")
