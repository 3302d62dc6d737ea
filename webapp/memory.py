"""Large blocks go back to the system when freed, so a 100 MP decode does not stay in a process.

glibc serves a large allocation by mmap only while it is above a threshold that it raises each time
such a block is freed (up to 32 MB). After the first big decode, Pillow's 16 MB image blocks and
numpy's arrays therefore come from the heap arenas of whichever thread ran it, and stay there: with
four threads per web process, four bombs at once left 3.3 GB resident in two processes, though each
decode needs under 1 GB. A fixed threshold keeps every large block mapped on its own and unmapped when
freed (measured by bench/bench_decode_bomb.py; the README has the figures).
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt's parameter number for the mmap threshold (malloc.h); setting it also stops its raising.
M_MMAP_THRESHOLD = -3
LARGE_BLOCK_BYTES = 1024 * 1024


def large_blocks_returned() -> bool:
    """Set the fixed threshold for this process; False where the C library is not glibc."""
    library = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(library).mallopt
    except (OSError, AttributeError, TypeError):
        return False  # not glibc (musl, macOS): their allocators return large blocks anyway
    return mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) == 1
