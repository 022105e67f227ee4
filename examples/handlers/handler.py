"""A Python service that reacts to oomhero's default signals, SIGUSR1 and SIGUSR2."""
import gc
import signal
import sys
import time

cache = {i: b"x" * 1024 for i in range(1000)}  # stands in for what the service can rebuild


def on_warning(signum, frame):
    # Warning: drop the older half of the cache.
    for key in list(cache)[: len(cache) // 2]:
        del cache[key]
    print(f"warning: cache trimmed to {len(cache)} entries", flush=True)


def on_critical(signum, frame):
    # Critical: drop everything that can be rebuilt and return it to the allocator now.
    cache.clear()
    gc.collect()
    print("critical: cache cleared", flush=True)


signal.signal(signal.SIGUSR1, on_warning)
signal.signal(signal.SIGUSR2, on_critical)
print("ready", flush=True)
while True:
    time.sleep(60)  # keep serving
