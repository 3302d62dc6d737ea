"""The embedded broker: kombu's filesystem transport, run from the worker's event loop.

Why: Celery gives a prefork worker its event loop only on a transport that declares itself
asynchronous. Without one (kombu's filesystem transport does not) the pool falls back to billiard's
threaded pool, where every idle pool process waits for its next task inside the read lock of one
pipe shared by all of them. A pool process killed with SIGKILL while it waits (the OOM killer, an
operator killing the pool) dies holding that lock: no process started after it can ever read a task,
the messages the worker took fill its prefetch window and stay there, and the worker, alive and
connected, never runs another task (celery/celery#2011). With the event loop the pool gives each
process a pipe of its own (as on Redis), so a killed process takes nothing down with it and its
task is handed back.

The filesystem has nothing to wait on, so the loop polls the queue folder every polling_interval,
as the blocking loop did, and takes every message that fits the prefetch window.
"""

from __future__ import annotations

from queue import Empty

from kombu.transport import filesystem


class Transport(filesystem.Transport):
    implements = filesystem.Transport.implements.extend(asynchronous=True)

    def register_with_event_loop(self, connection, loop):
        # The consumer cancels this timer with its others when the connection is lost.
        loop.call_repeatedly(self.polling_interval, self.messages_deliver)

    def messages_deliver(self) -> None:
        """Hand every waiting message to its consumer until the queues are empty or the window is full."""
        try:
            while True:
                self.cycle.get(self._deliver)
        except Empty:
            pass  # nothing more to take until the next poll
