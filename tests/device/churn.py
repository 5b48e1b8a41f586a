# A class-heavy app whose heap churns: thousands of blocks change between two dumps. Run by
# examples/scale.rs on the real unix port with -X heapsize=1M to make the "churning 1 MiB heap"
# capture of the scale benchmark. argv: steps (default 300), one dump per step.
#
# Deterministic: the random generator is seeded, nothing depends on time, and collections happen
# at fixed steps, so two runs print the same dumps (only ticks_ms, the sync line's clock and the
# heap's address differ, and the benchmark re-stamps the first and ignores the others).
import sys

sys.path.insert(0, "../../device")
import gc
import random
import mem_dump

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
SLOTS = 3000
CHANGES = 1200  # slots replaced per step


class Node:
    def __init__(self, key, value):
        self.key = key
        self.value = value
        self.kids = []


class Reading:
    def __init__(self, sensor, samples):
        self.sensor = sensor
        self.samples = samples
        self.label = "s%d" % sensor

    def mean(self):
        return sum(self.samples) / len(self.samples)


class Message:
    def __init__(self, topic, body):
        self.topic = topic
        self.body = body
        self.headers = {"len": len(body)}


def make(kind, i, j):
    if kind == 0:
        n = Node(i, str(i))
        n.kids.append(Node(j, None))
        return n
    if kind == 1:
        return bytearray(16 + random.getrandbits(7))
    if kind == 2:
        return [j, i, str(j)]
    if kind == 3:
        return {"a": i, "b": j, "c": str(i)}
    if kind == 4:
        return (i, j, float(i))
    if kind == 5:
        return Reading(i % 16, [j, i, j + i])
    if kind == 6:
        return Message("t/%d" % (i % 32), bytes(8 + (j % 64)))
    return None


random.seed(7)
slots = [None] * SLOTS
for step in range(STEPS):
    for j in range(CHANGES):
        i = random.getrandbits(16) % SLOTS
        slots[i] = make(random.getrandbits(3), i, j)
    if step % 5 == 0:
        gc.collect()
    mem_dump.mem_dump()
