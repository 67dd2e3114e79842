"""Serve the explorer: a local web page (Streamlit) on which you pick a model, adapter, hardware, network,
runtime and designs and see at once the time per token, TTFT, device memory and energy, cost, the RTT curves,
a decode step's parts, `plan`'s designs and `capacity`'s search, each beside the command line that prints the
same figures. Needs the explore extra (pip install 'plmodel[explore]'); fetches nothing from the internet.
"""

from __future__ import annotations

import socket

from plmodel.errors import PlmodelError

HELP = "a local web page to explore a scenario, plan and capacity (needs plmodel[explore])"
HOST = "localhost"


def register_arguments(p) -> None:
    p.add_argument("--port", type=int, default=8501, metavar="N", help="the local port to serve the page on")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser (print the address only)")


def check_port(port: int) -> None:
    """Refuse a port out of range or in use on this machine, in one line."""
    if not 1 <= port <= 65535:
        raise PlmodelError(f"--port: expected an integer from 1 to 65,535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise PlmodelError(f"--port: {port} is in use on this machine; pick another") from None


def open_when_serving(url: str, port: int, bound_s: float = 60.0) -> None:
    """Open `url` in the person's browser once the page's port answers (a thread; gives up after `bound_s`)."""
    import threading
    import time
    import webbrowser

    def wait_then_open():
        end = time.monotonic() + bound_s
        while time.monotonic() < end:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    webbrowser.open(url)
                    return
            time.sleep(0.2)

    threading.Thread(target=wait_then_open, daemon=True).start()


def run(args) -> int:
    check_port(args.port)
    try:
        from streamlit.web import bootstrap
    except ImportError:
        raise PlmodelError("the explorer needs Streamlit: pip install 'plmodel[explore]'") from None
    from plmodel.explore import app

    url = f"http://{HOST}:{args.port}"
    print(f"plmodel explore: {url} (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        open_when_serving(url, args.port)
    # Headless always: Streamlit then neither asks for an e-mail on its first run nor opens a browser itself.
    options = {"server.port": args.port, "server.address": HOST, "server.headless": True,
               "server.fileWatcherType": "none", "server.runOnSave": False, "browser.gatherUsageStats": False,
               "browser.serverAddress": HOST, "global.developmentMode": False, "client.toolbarMode": "minimal",
               "client.showErrorDetails": "none", "theme.base": "light"}
    flags = {name.replace(".", "_"): value for name, value in options.items()}  # as `streamlit run` passes them
    bootstrap.load_config_options(flags)
    bootstrap.run(app.__file__, False, [], flags)
    return 0
