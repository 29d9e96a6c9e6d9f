#!/usr/bin/env python3
"""Remote API test client (lteims manual, section 6), standard library only.

Connects to host:port, performs the RFC 6455 opening handshake (with the
mandatory Origin header), answers the startup `authenticate` challenge when a
password is given (res = HMAC-SHA256(key "<type>:<password>:<name>", data
"<challenge>") in hex), sends each message and prints every response.

    ws_client.py 127.0.0.1:9003 '{"message": "config_get"}' '{"message": "help"}'
    ws_client.py --password secret --wait 2 host:9003 '{"message": "log_get"}'

Exit status: 0 when every message got a response without an "error" member
(use --allow-errors to ignore errors), 1 otherwise.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsClient:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n\r\n"
        )
        self.sock.sendall(req.encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {lines[0]}")
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        if headers.get("sec-websocket-accept") != want:
            raise RuntimeError("bad Sec-WebSocket-Accept")

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by server")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload):
        # RFC 6455 5.3: client frames are masked.
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send_json(self, obj):
        self.send_frame(0x1, json.dumps(obj).encode())

    def recv_message(self):
        """Next text message as a str, or None when the server closed."""
        parts = []
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8))[0]
            if b1 & 0x80:
                raise RuntimeError("server frames must not be masked")
            payload = self._take(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self.send_frame(0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                print(f"# server closed: {code} {payload[2:].decode(errors='replace')}", file=sys.stderr)
                return None
            elif opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def recv_json(self):
        text = self.recv_message()
        return None if text is None else json.loads(text)

    def close(self):
        try:
            self.send_frame(0x8, struct.pack("!H", 1000))
            self.sock.settimeout(1)
            while self.recv_message() is not None:
                pass
        except (OSError, ConnectionError):
            pass
        self.sock.close()


def authenticate(ws, hello, password):
    for _ in range(3):
        res = hmac.new(f"{hello['type']}:{password}:{hello['name']}".encode(), hello["challenge"].encode(), hashlib.sha256).hexdigest()
        ws.send_json({"message": "authenticate", "message_id": "auth", "res": res})
        answer = ws.recv_json()
        print(json.dumps(answer))
        if answer and answer.get("ready"):
            return True
        hello = answer
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("server", help="host:port (default port 9003)")
    ap.add_argument("messages", nargs="*", help="JSON messages (objects or arrays)")
    ap.add_argument("--password", help="com_auth password")
    ap.add_argument("--timeout", type=float, default=10.0, help="socket timeout in seconds")
    ap.add_argument("--wait", type=float, default=0.0, help="after the responses, print events for this long")
    ap.add_argument("--allow-errors", action="store_true", help="exit 0 even if a response has an error")
    args = ap.parse_args()
    host, _, port = args.server.rpartition(":") if ":" in args.server else (args.server, "", "9003")
    ws = WsClient(host.strip("[]"), int(port), args.timeout)
    hello = ws.recv_json()
    print(json.dumps(hello))
    ok = True
    if hello and hello.get("message") == "authenticate":
        if not args.password or not authenticate(ws, hello, args.password):
            print("# authentication failed", file=sys.stderr)
            return 1
    for i, text in enumerate(args.messages):
        msg = json.loads(text)
        items = msg if isinstance(msg, list) else [msg]
        for j, item in enumerate(items):
            if isinstance(item, dict):
                item.setdefault("message_id", f"m{i}.{j}")
        ws.send_json(msg)
        for _ in items:
            answer = ws.recv_json()
            if answer is None:
                return 1
            print(json.dumps(answer))
            ok = ok and "error" not in answer
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        ws.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            event = ws.recv_json()
        except socket.timeout:
            break
        if event is None:
            break
        print(json.dumps(event))
    ws.close()
    return 0 if ok or args.allow_errors else 1


if __name__ == "__main__":
    sys.exit(main())
