"""The embedded broker's transport: the worker runs it from its event loop, and each poll hands over what
waits, no more than the prefetch window takes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.asynchronous import Hub

from tests.live import TEST_SECRET_KEY, wait_for
from webapp import broker

ROOT = Path(__file__).resolve().parent.parent


def _connection(folder) -> Connection:
    for sub in ("queue", "control"):
        (folder / sub).mkdir()
    return Connection("filesystem://", transport=broker.Transport, transport_options={
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"), "polling_interval": 0.1})


def test_the_embedded_broker_gives_the_worker_its_event_loop(tmp_path):
    code = ("from webapp.celery import app\n"
            "connection = app.connection_for_read()\n"
            "print(type(connection.transport).__module__, connection.transport.implements.asynchronous)")
    env = {**os.environ, "CELERY_BROKER_URL": "filesystem://", "INPAINT_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SECRET_KEY": TEST_SECRET_KEY}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    # Celery's worker uses its event loop, and with it a pipe per pool process, only when this is True.
    assert done.stdout.split() == ["webapp.broker", "True"]


def test_a_poll_hands_over_waiting_messages_up_to_the_prefetch_window(tmp_path):
    queue = Queue("steps", Exchange("steps"), routing_key="steps")
    received = []
    with _connection(tmp_path) as connection:
        channel = connection.channel()
        producer = Producer(channel)
        for number in range(3):
            producer.publish({"n": number}, exchange=queue.exchange, routing_key="steps", declare=[queue])
        consumer = Consumer(channel, [queue], callbacks=[lambda body, message: received.append(message)])
        consumer.qos(prefetch_count=2)
        consumer.consume()

        connection.transport.messages_deliver()
        assert len(received) == 2  # the window is full; the third waits
        received[0].ack()
        connection.transport.messages_deliver()
        assert sorted(message.payload["n"] for message in received) == [0, 1, 2]
        connection.transport.messages_deliver()  # nothing left: no error, nothing more
        assert len(received) == 3


def test_the_worker_loop_delivers_what_is_published(tmp_path):
    queue = Queue("fills", Exchange("fills"), routing_key="fills")
    received = []
    hub = Hub()
    try:
        with _connection(tmp_path) as connection:
            channel = connection.channel()
            Consumer(channel, [queue], callbacks=[lambda body, message: received.append(body)]).consume()
            connection.transport.register_with_event_loop(connection.connection, hub)
            Producer(channel).publish({"n": 1}, exchange=queue.exchange, routing_key="fills", declare=[queue])
            wait_for(lambda: hub.run_once() or received, timeout=10, interval=0, message="the loop to deliver")
        assert received == [{"n": 1}]
    finally:
        hub.close()
