# TEST DOUBLE for machine.Timer, which the unix port lacks: a periodic timer built on _thread.
# The callback runs on another thread, as a hardware timer interrupts the main program; like a
# hard-IRQ handler, it must only schedule work (mem_dump does so through micropython.schedule).
import _thread
import time


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, timer_id=-1, mode=PERIODIC, period=1000, callback=None):
        self.period = period
        self.callback = callback
        self.mode = mode
        self.running = True
        self.fired = 0
        _thread.start_new_thread(self._run, ())

    def _run(self):
        while self.running:
            time.sleep_ms(self.period)
            if not self.running:
                break
            self.fired += 1
            self.callback(self)
            if self.mode == Timer.ONE_SHOT:
                break

    def deinit(self):
        self.running = False
