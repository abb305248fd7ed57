"""Gateway stand-in: answers every GET with the upstream it would call."""
import http.server
import os

UPSTREAM = os.environ.get("UPSTREAM", "")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"gateway -> {UPSTREAM}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


port = int(os.environ.get("PORT", "7000"))
print(f"gateway: listening on {port}", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
