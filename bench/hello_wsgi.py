"""The yardstick for the job-card poll (bench/bench_poll.py): the least a WSGI app can do, served by
gunicorn with exactly the web server's settings."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world\n"]
