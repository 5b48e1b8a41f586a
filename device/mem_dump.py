# mem_dump.py - periodic heap dumps for memanim (https://github.com/ : see the project README).
#
# Prints, every period, a timestamped dump of the GC heap:
#
#   @@@ <ticks_ms> (<time.localtime()[:8]>)    once, before the first dump: ties ticks to the clock
#   @@@ <ticks_ms>
#   ...output of micropython.mem_info(1)...
#   @@@
#
# Three ways to trigger dumps:
#   await mem_dump.start_async(350)    an asyncio task (returns it)
#   mem_dump.start_timer(350)          a machine.Timer; the dump runs via micropython.schedule
#   mem_dump.mem_dump()                one dump, now
# and mem_dump.stop() stops the task or the timer.
#
# mem_dump.log("text") prints "@@@ <ticks_ms> | text": a log line memanim places at its exact time.
#
# A dump allocates nothing on the heap it measures (the first one allocates the sync line's time
# tuple), so the picture is the app's, not the dumper's.

import micropython
import time

__version__ = "0.1.0"

_first = True  # the next dump is the first of this boot: print the sync line
_task = None  # the asyncio task of start_async
_timer = None  # the machine.Timer of start_timer
_pending = False  # a timer dump is scheduled and has not run yet
_skipped = 0  # timer ticks skipped: a dump was still pending, or the schedule queue was full
_out = None  # a stream that receives the dumps too (through os.dupterm), or None
_period = 350


class _Tee:
    # os.dupterm wants a stream object; this one only writes, and never offers input.
    def __init__(self, out):
        self.out = out

    def write(self, buf):
        return self.out.write(buf)

    def readinto(self, buf):
        return None

    def ioctl(self, op, arg):
        return 0


def _attach():
    # Console output (mem_info prints through the C console, not sys.stdout) is copied to _out.
    import os

    try:
        return os.dupterm(_out, 1)
    except (TypeError, ValueError):
        return os.dupterm(_out)


def _detach(prev):
    import os

    try:
        os.dupterm(prev, 1)
    except (TypeError, ValueError):
        os.dupterm(prev)


def _set_out(out):
    global _out
    if out is None:
        _out = None
        return
    import os

    if not hasattr(os, "dupterm"):
        raise OSError("out= needs os.dupterm, which this port does not have; "
                      "capture the console instead (memanim capture PORT)")
    _out = out if isinstance(out, _Tee) else _Tee(out)


def mem_dump(_=None):
    """Print one dump now. The argument is ignored (so this can be a callback)."""
    global _first
    prev = _attach() if _out is not None else None
    try:
        t = time.ticks_ms()
        if _first:
            _first = False
            # The same ticks as the dump: the sync line ties exactly this dump to the clock.
            print("@@@", t, time.localtime()[:8])
        print("@@@", t)
        micropython.mem_info(1)
        print("@@@")
    finally:
        if _out is not None:
            _detach(prev)


def log(msg):
    """Print a log line stamped with ticks_ms; memanim shows it at that exact time."""
    print("@@@", time.ticks_ms(), "|", msg)


def logging_handler():
    """A handler for micropython-lib's logging that stamps each record like log()."""
    import logging

    class _Handler(logging.Handler):
        def emit(self, record):
            log(self.format(record))

    return _Handler()


async def start_async(period_ms=350, out=None):
    """Start dumping every period_ms from an asyncio task, and return the task.

    Await it: `await mem_dump.start_async()`, as with the original dumper.
    """
    global _task, _period
    import asyncio

    stop()
    _set_out(out)
    _period = period_ms

    async def _run():
        try:
            while True:
                mem_dump()
                # sleep_ms reuses one generator object: no allocation per period.
                await asyncio.sleep_ms(_period)
        except asyncio.CancelledError:
            pass

    _task = asyncio.create_task(_run())
    return _task


def _dump_scheduled(_):
    global _pending
    _pending = False
    mem_dump()


# Bound once: passing an existing function to micropython.schedule allocates nothing, which matters
# in a hard interrupt, where the heap is locked.
_dump_ref = _dump_scheduled


def _tick(_):
    # Timer callback; on stm32, nrf and renesas-ra it runs in hard-IRQ context, where printing and
    # allocating fail. So the dump itself is deferred to the scheduler, and a tick that cannot be
    # scheduled (a dump still pending, or the queue full) is skipped and counted.
    global _pending, _skipped
    if _pending:
        _skipped += 1
        return
    try:
        micropython.schedule(_dump_ref, None)
        _pending = True
    except Exception:  # RuntimeError "schedule queue full", or MemoryError with the heap locked
        _skipped += 1


def start_timer(period_ms=350, timer_id=-1, out=None, timer=None):
    """Start dumping every period_ms from a machine.Timer (or the Timer class given as timer=)."""
    global _timer, _pending, _skipped, _period
    stop()
    _set_out(out)
    if timer is None:
        from machine import Timer as timer
    if hasattr(micropython, "alloc_emergency_exception_buf"):
        # Lets an exception raised in a hard IRQ carry a message instead of becoming MemoryError.
        micropython.alloc_emergency_exception_buf(100)
    _pending = False
    _skipped = 0
    _period = period_ms
    _timer = timer(timer_id, mode=timer.PERIODIC, period=period_ms, callback=_tick)
    return _timer


def skipped():
    """How many timer ticks were skipped since start_timer."""
    return _skipped


def stop():
    """Stop the task of start_async or the timer of start_timer (whichever runs)."""
    global _task, _timer, _out
    if _task is not None:
        _task.cancel()
        _task = None
    if _timer is not None:
        _timer.deinit()
        _timer = None
    _out = None
