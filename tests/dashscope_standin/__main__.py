"""Run the stand-in by hand for demos: ``python -m tests.dashscope_standin --port 8765 --key sk-demo``."""

from __future__ import annotations

import argparse
import threading

from tests.dashscope_standin.server import DashScopeStandIn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local DashScope image-synthesis stand-in until Ctrl-C.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--key", default="sk-demo", help="the API key clients must send as 'Authorization: Bearer <key>'"
    )
    parser.add_argument("--running-seconds", type=float, default=5.0, help="how long each task stays RUNNING")
    parser.add_argument(
        "--generation-seconds", type=float, default=1.0, help="how long each sync Qwen-Image-Edit call blocks"
    )
    args = parser.parse_args(argv)
    with DashScopeStandIn(api_key=args.key, port=args.port) as standin:
        standin.running_seconds = args.running_seconds
        standin.generation_seconds = args.generation_seconds
        print(f"DashScope stand-in on {standin.base_url} (API key {args.key}); Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
