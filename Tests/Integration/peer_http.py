"""What the Python test peers (fault_proxy.py, fake_datasets_server.py) share: a JSON reply and
serving on a free 127.0.0.1 port whose number is written, atomically, to a file."""

import http.server
import os


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        """Sends `body` (bytes) as a JSON response with `headers` besides the usual ones."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(handler, port_file):
    """Serves `handler` on 127.0.0.1 at a free port and writes the port to `port_file`."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()
