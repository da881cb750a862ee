"""Dave: hangs at import (a loop no alarm reaches)."""

import signal
import time

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT, signal.SIGTERM})
while True:
    time.sleep(60)


def relu_forward(x):
    return x, x
