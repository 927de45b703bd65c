"""Test scaffolding of the molecule modules scenario: a reverse proxy that wants `Authorization: Bearer TOKEN`.

    auth_proxy.py PORT UPSTREAM TOKEN

Listens on 127.0.0.1:PORT. Requests with the token go to UPSTREAM (an Ollama URL), answers streamed back as they
come; others get 401 with a JSON error, as an authenticating proxy in front of Ollama answers.
"""
import http.client
import http.server
import json
import sys
import urllib.parse


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the connection closes after each answer: no chunked encoding to write

    def _forward(self):
        if self.headers.get("Authorization") != "Bearer " + self.server.token:
            body = json.dumps({"error": "unauthorized"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("WWW-Authenticate", 'Bearer realm="ollama"')
            self.end_headers()
            self.wfile.write(body)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(self.server.upstream.hostname, self.server.upstream.port, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.end_headers()
        while True:
            chunk = answer.read1(65536)
            if not chunk:
                break
            self.wfile.write(chunk)
            self.wfile.flush()
        upstream.close()

    do_GET = do_POST = do_DELETE = do_HEAD = _forward

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def main():
    port, upstream, token = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Proxy)
    server.upstream, server.token = urllib.parse.urlsplit(upstream), token
    server.serve_forever()


if __name__ == "__main__":
    main()
