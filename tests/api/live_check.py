#!/usr/bin/env python3
"""Drives a running ringcore's remote API with an independent client
(Python `websockets`, PyPI) and checks the answers against seed 000 section 6.

    live_check.py SCENARIO HOST:PORT [ARGS...]

Scenarios: messages, errors, auth PASSWORD, log_get, events SIPP_ARGS_JSON.
Exits 0 when every check passed; prints the first failure otherwise.
"""

import hashlib
import hmac
import json
import subprocess
import sys
import time
import warnings

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

# websockets 14+ prefers `with connect(...)`; a long-lived client object is what these checks need.
warnings.simplefilter("ignore", DeprecationWarning)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Client:
    def __init__(self, addr, scheme="ws", **kw):
        # websockets' sync client over TLS 1.3 rarely stalls before sending its
        # request (a plain ssl client never does against this server): retry once.
        for attempt in (1, 2):
            try:
                self.ws = connect(f"{scheme}://{addr}/", origin="http://test", open_timeout=15 if scheme == "ws" else 5, max_size=None, compression=None, **kw)
                break
            except TimeoutError:
                if scheme == "ws" or attempt == 2:
                    raise
        self.hello = self.recv()
        self.next_id = 0

    def recv(self, timeout=5):
        return json.loads(self.ws.recv(timeout=timeout))

    def send(self, obj):
        self.ws.send(json.dumps(obj) if not isinstance(obj, str) else obj)

    def call(self, msg, **members):
        self.next_id += 1
        mid = f"id{self.next_id}"
        self.send(dict(message=msg, message_id=mid, **members))
        while True:
            r = self.recv(10)
            if r.get("message_id") == mid:
                return r

    def ok(self, msg, **members):
        r = self.call(msg, **members)
        check("error" not in r, f"{msg} {members}: unexpected error {r}")
        check(r.get("message") == msg, f"{msg}: message not echoed: {r}")
        return r


def messages(addr):
    c = Client(addr)
    h = c.hello
    check(h["message"] == "ready" and h["type"] == "IMS" and h["name"] == "ApiLive", f"startup: {h}")
    r = c.ok("help")
    for m in ["config_get", "config_set", "log_get", "stats", "users_get", "mt_call", "dialog_get", "unregister"]:
        check(m in r["messages"], f"help lacks {m}: {r}")
    check(set(r["events"]) >= {"users_update", "dialog"}, f"help events: {r}")
    cfg = c.ok("config_get")
    check(cfg["type"] == "IMS" and cfg["locked"] is False and "sip" in cfg["logs"]["layers"], f"config_get: {cfg}")
    c.ok("config_set", binding_expires=1234, logs={"layers": {"cx": {"level": "debug"}}})
    c.ok("config_set", precondition="silent", session_expires={"duration": 900, "refresher": "uas"}, sms_message_filter={"rp_data": "reject"},
         custom_headers=[{"name": "X-Lab", "value": "1"}], **{"100rel": False}, sms_forced_rp_cause=41)
    r = c.call("config_set", session_expires={"refresher": "nobody"}, binding_expires=99)
    check("session_expires.refresher" in r.get("error", ""), f"bad refresher: {r}")
    r = c.call("config_set", custom_headers=[{"value": "no name"}])
    check("custom_headers.name" in r.get("error", ""), f"bad custom header: {r}")
    cfg = c.ok("config_get")
    check(cfg["binding_expires"] == 1234, f"config_set not applied (or a refused one applied): {cfg}")
    check(cfg["precondition"] == "silent" and cfg["100rel"] is False and cfg["sms_forced_rp_cause"] == 41, f"config_set: {cfg}")
    check(cfg["session_expires"]["duration"] == 900 and cfg["session_expires"]["refresher"] == "uas", f"session_expires: {cfg}")
    check(cfg["sms_message_filter"]["rp_data"] == "reject", f"sms_message_filter: {cfg}")
    check(cfg["custom_headers"][0]["name"] == "X-Lab", f"custom_headers: {cfg}")
    check(cfg["logs"]["layers"]["cx"]["level"] == "debug", f"config_set logs not applied: {cfg['logs']}")
    # Logs: a log_set shows up in log_get.
    c.ok("log_set", log="hello from the api test", layer="cx", level="info")
    r = c.ok("log_get", layers={"cx": "debug"}, timeout=0.5, allow_empty=True)
    check(any("hello from the api test" in "".join(l["data"]) for l in r["logs"]), f"log_get: {r}")
    check(all(l["layer"] == "CX" or l["layer"].lower() == "cx" for l in r["logs"]), f"log_get layer filter: {r}")
    c.ok("log_set", flush=True)
    c.ok("log_reset")
    # stats: cpu, instance_id, counters, latency; reset on read.
    s1 = c.ok("stats")
    check(isinstance(s1["cpu"], dict) and s1["cpu"], f"stats cpu: {s1}")
    check(isinstance(s1["instance_id"], int), f"stats instance_id: {s1}")
    check("messages" in s1["counters"] and "errors" in s1["counters"], f"stats counters: {s1}")
    check(set(s1["latency"]) >= {"register", "invite_to_180", "invite_to_200"}, f"stats latency: {s1}")
    s2 = c.ok("stats", histograms="hdr")
    check(s2["instance_id"] == s1["instance_id"], "instance_id changed")
    check(isinstance(s2["latency"]["register"]["hdr"], str) and len(s2["latency"]["register"]["hdr"]) > 8, f"hdr: {s2['latency']}")
    check(all(v == 0 for v in s2["counters"]["errors"].values()), f"stats not reset: {s2}")
    check(c.ok("ipsec")["SAs"] == [], "ipsec")
    # Users.
    users = c.ok("users_get")["users"]
    check(any(u["impi"] == "alice@ims.mnc001.mcc001.3gppnetwork.org" and u["bindings"] == [] for u in users), f"users_get: {users}")
    check(c.ok("users_get", registered_only=True)["users"] == [], "registered_only")
    c.ok("users_add", users=[{"impi": "bob@ims.mnc001.mcc001.3gppnetwork.org", "imsi": "001010000000002", "pwd": "pw", "impu": ["sip:bob"]}])
    check(any(u["impi"].startswith("bob@") for u in c.ok("users_get")["users"]), "users_add")
    r = c.call("users_add", users=[{"impi": "bob@ims.mnc001.mcc001.3gppnetwork.org", "imsi": "001010000000003", "pwd": "pw", "impu": ["sip:bob2"]}])
    check("duplicate" in r.get("error", ""), f"users_add duplicate: {r}")
    c.ok("user_set", impi="bob@ims.mnc001.mcc001.3gppnetwork.org", force_sms_over_sg=True)
    bob = [u for u in c.ok("users_get")["users"] if u["impi"].startswith("bob@")][0]
    check(bob.get("force_sms_over_sg") is True, f"user_set: {bob}")
    check("error" in c.call("user_set", impi="nobody@x"), "user_set unknown impi")
    c.ok("impu_add", impi="bob@ims.mnc001.mcc001.3gppnetwork.org", impu="sip:bobby")
    c.ok("impu_set", impu="sip:bobby", authentication=False)
    c.ok("impu_set", impu="sip:bobby", imei="352099001761481")
    r = c.call("impu_set", impu="sip:bobby", imei="3520990")
    check("imei" in r.get("error", ""), f"impu_set with a bad imei: {r}")
    c.ok("impu_del", impi="bob@ims.mnc001.mcc001.3gppnetwork.org", impu={"impu": "sip:bobby"})
    check("error" in c.call("impu_del", impi="bob@ims.mnc001.mcc001.3gppnetwork.org", impu="sip:bobby"), "impu_del twice")
    c.ok("impu_add", impi="echo", impu="sip:echo2")
    c.ok("impu_del", impi="echo", impu="sip:echo2")
    # SMS (not built yet), calls and dialogs.
    r = c.call("sms", impi="nobody@x", text="hi")
    check("error" in r and "SMS not available" not in r["error"], f"sms to an unknown user: {r}")
    r = c.call("sms", impi="alice@ims.mnc001.mcc001.3gppnetwork.org", text="stored until alice registers")
    check(isinstance(r.get("ids"), list) and len(r["ids"]) == 1, f"sms to an offline user is stored: {r}")
    r = c.call("mt_call", impu="sip:alice")
    check("not registered" in r.get("error", ""), f"mt_call unregistered: {r}")
    check(c.ok("dialog_get")["dialogs"] == [], "dialog_get")
    check("Unknown dialog" in c.call("dialog_set", session_id="x", action="stop").get("error", ""), "dialog_set")
    check("Unknown binding" in c.call("unregister", uri="sip:alice").get("error", ""), "unregister")
    r = c.ok("register", register=["users_update", "dialog"])
    r = c.ok("register", unregister="dialog")
    # quit ends the process after its response.
    r = c.ok("quit")
    try:
        c.recv(timeout=5)
        fail("connection still open after quit")
    except ConnectionClosed:
        pass
    print("OK")


def errors(addr):
    c = Client(addr)
    c.send("{not json")
    r = c.recv()
    check(r.get("error", "").startswith("Invalid JSON"), f"malformed JSON: {r}")
    c.send('{"message": "config_get"} trailing')
    check("error" in c.recv(), "trailing characters accepted")
    r = c.call("bar")
    check(r["error"] == "Unknown message: bar" and r["message"] == "bar", f"unknown: {r}")
    r = c.call("users_get", registered_only="1")
    check(r["error"] == "Invalid parameter: registered_only must be a boolean", f"wrong type: {r}")
    r = c.call("log_get", min="x")
    check("Invalid parameter: min" in r.get("error", ""), f"wrong type log_get: {r}")
    c.send(json.dumps([{"message": "help", "message_id": 1}, {"message": "bar", "message_id": 2}, 5]))
    got = [c.recv(), c.recv(), c.recv()]
    check(got[0]["message_id"] == 1 and "messages" in got[0], f"array 1: {got}")
    check(got[1]["message_id"] == 2 and got[1]["error"] == "Unknown message: bar", f"array 2: {got}")
    check("error" in got[2], f"array 3: {got}")
    r = c.call("help", message_id={"nested": [1]}) if False else None
    c.send({"message": "help", "message_id": {"nested": [1, 2]}})
    check(c.recv()["message_id"] == {"nested": [1, 2]}, "structured message_id not echoed")
    # An oversized frame (above 1 MiB) gets a Close 1009, not a silent drop.
    # The Close may arrive while the client is still sending the frame.
    try:
        c.send(json.dumps({"message": "help", "pad": "x" * (2 << 20)}))
        while True:
            c.recv(timeout=5)
    except ConnectionClosed as e:
        check(e.rcvd is not None and e.rcvd.code == 1009, f"oversized: close {e.rcvd}")
    # The server is still serving.
    c2 = Client(addr)
    check(c2.ok("help"), "server gone after oversized frame")
    print("OK")


def auth(addr, password):
    c = Client(addr)
    h = c.hello
    check(h["message"] == "authenticate" and len(h["challenge"]) >= 16, f"startup: {h}")
    r = c.call("config_get")
    check(r.get("error") == "Authentication not done", f"before auth: {r}")
    r = c.call("authenticate", res="00" * 32)
    check(r.get("error") and r.get("challenge") and r["challenge"] != h["challenge"], f"bad res: {r}")
    key = f"{r['type']}:{password}:{r['name']}".encode()
    res = hmac.new(key, r["challenge"].encode(), hashlib.sha256).hexdigest()
    r = c.call("authenticate", res=res)
    check(r.get("ready") is True and "error" not in r, f"good res: {r}")
    # com_logs_lock: logs cannot be changed, other members still can.
    check(c.ok("config_get")["locked"] is True, "com_logs_lock not reported")
    r = c.ok("config_set", logs={"layers": {"all": {"level": "error"}}}, binding_expires=600)
    check(r.get("logs") == "locked", f"locked logs: {r}")
    cfg = c.ok("config_get")
    check(cfg["logs"]["layers"]["sip"]["level"] == "debug" and cfg["binding_expires"] == 600, f"config after locked set: {cfg}")
    print("OK")


def log_get(addr):
    c = Client(addr)
    c.ok("config_set", logs={"layers": {"cx": {"level": "debug"}}})
    # allow_empty: an empty answer after the timeout.
    t = time.monotonic()
    r = c.ok("log_get", layers={"cx": "debug"}, timeout=0.4, allow_empty=True, start_timestamp=time.time() * 1000 + 3_600_000)
    dt = time.monotonic() - t
    check(r["logs"] == [] and 0.35 <= dt < 3, f"allow_empty: {r} after {dt:.2f}s")
    # Without allow_empty nothing comes until a log exists, then it comes one timeout later.
    other = Client(addr)
    t = time.monotonic()
    c.send({"message": "log_get", "message_id": "w", "layers": {"cx": "debug"}, "timeout": 0.3, "min": 5})
    try:
        c.recv(timeout=1.0)
        fail("log_get answered without logs")
    except TimeoutError:
        pass
    other.ok("log_set", log="one", layer="cx", level="info")
    r = c.recv(timeout=5)
    dt = time.monotonic() - t
    check(r["message_id"] == "w" and [l["data"] for l in r["logs"]] == [["one"]], f"timeout answer: {r}")
    check(dt >= 1.2, f"answered too early: {dt:.2f}s")
    # min: answered as soon as `min` logs are there, well before the timeout.
    t = time.monotonic()
    c.send({"message": "log_get", "message_id": "m", "layers": {"cx": "debug"}, "timeout": 10, "min": 3})
    for i in range(3):
        other.ok("log_set", log=f"m{i}", layer="cx", level="info")
    r = c.recv(timeout=8)
    dt = time.monotonic() - t
    check(r["message_id"] == "m" and len(r["logs"]) == 3 and dt < 5, f"min: {r} after {dt:.2f}s")
    # A new log_get forces the pending one out.
    c.send({"message": "log_get", "message_id": "p1", "layers": {"cx": "debug"}, "timeout": 30})
    time.sleep(0.2)
    c.send({"message": "log_get", "message_id": "p2", "layers": {"cx": "debug"}, "timeout": 0.2, "allow_empty": True})
    r1, r2 = c.recv(), c.recv()
    check(r1["message_id"] == "p1" and r1["logs"] == [] and r2["message_id"] == "p2", f"forced: {r1} {r2}")
    print("OK")


def events(addr, sipp_json):
    c = Client(addr)
    c.ok("register", register="users_update")
    args = json.loads(sipp_json)
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"sipp failed: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = c.recv(timeout=5)
        if r.get("message") == "users_update":
            u = r["users_update"]
            check(isinstance(u, list) and u and u[0]["impi"].startswith("md5u0@"), f"users_update: {r}")
            check(u[0]["bindings"] and u[0]["bindings"][0]["expires"] > 0, f"users_update bindings: {r}")
            break
    else:
        fail("no users_update")
    users = c.ok("users_get", registered_only=True)["users"]
    check([u["impi"] for u in users] == ["md5u0@ims.mnc001.mcc001.3gppnetwork.org"], f"registered_only: {users}")
    # Network de-registration by AoR: another users_update, with no binding left.
    c.ok("unregister", uri="sip:md5u0@ims.mnc001.mcc001.3gppnetwork.org")
    while True:
        r = c.recv(timeout=5)
        if r.get("message") == "users_update":
            check(r["users_update"][0]["bindings"] == [], f"after unregister: {r}")
            break
    s = c.ok("stats")
    check(s["latency"]["register"]["count"] >= 1, f"register latency not recorded: {s['latency']}")
    check(s["counters"]["messages"].get("sip_in_REGISTER", 0) >= 2, f"REGISTER not counted: {s['counters']}")
    print("OK")


class Ue:
    """A minimal SIP UE over UDP: registers without authentication and answers requests."""

    def __init__(self, core, domain):
        import socket
        self.core = (core.split(":")[0], int(core.split(":")[1]))
        self.domain = domain
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(5)
        self.l = "127.0.0.1:%d" % self.s.getsockname()[1]

    def register(self, user):
        d, l = self.domain, self.l
        self.s.sendto((f"REGISTER sip:{d} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKapi1\r\nMax-Forwards: 70\r\n"
                       f"From: <sip:{user}@{d}>;tag=r\r\nTo: <sip:{user}@{d}>\r\nCall-ID: apireg\r\nCSeq: 1 REGISTER\r\n"
                       f"Contact: <sip:{user}@{l}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n").encode(), self.core)
        r, _ = self.recv()
        check(r.startswith("SIP/2.0 200"), f"REGISTER: {r}")

    def recv(self):
        data, frm = self.s.recvfrom(65536)
        return data.decode(errors="replace"), frm

    def respond(self, req, status, frm, body=""):
        lines = req.split("\r\n")
        get = lambda n: next(x for x in lines if x.lower().startswith(n.lower() + ":"))
        to = get("To") + (";tag=ue1" if "tag=" not in get("To") else "")
        ctype = "Content-Type: application/sdp\r\n" if body else ""
        msg = (f"SIP/2.0 {status}\r\n{get('Via')}\r\n{get('From')}\r\n{to}\r\n{get('Call-ID')}\r\n{get('CSeq')}\r\n"
               f"Contact: <sip:ue@{self.l}>\r\n{ctype}Content-Length: {len(body)}\r\n\r\n{body}")
        self.s.sendto(msg.encode(), frm)


def next_event(c, name):
    while True:
        r = c.recv(timeout=5)
        if r.get("message") == name:
            return r


def dialog(addr, core):
    domain = "ims.mnc001.mcc001.3gppnetwork.org"
    c = Client(addr)
    c.ok("register", register="dialog")
    ue = Ue(core, domain)
    ue.register("ue")
    sid = c.ok("mt_call", impi=f"ue@{domain}")["session_id"]
    invite, frm = ue.recv()
    check(invite.startswith("INVITE "), f"INVITE: {invite}")
    ev = next_event(c, "dialog")["dialog"]
    check(ev["session_id"] == sid and ev["state"] == "init" and ev["type"] == "mt call", f"first dialog event: {ev}")
    sdp = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    ue.respond(invite, "200 OK", frm, sdp)
    ack, _ = ue.recv()
    check(ack.startswith("ACK "), f"ACK: {ack}")
    ev = next_event(c, "dialog")["dialog"]
    check(ev["session_id"] == sid and ev["state"] == "start", f"answered dialog event: {ev}")
    d = c.ok("dialog_get", session_id=sid)["dialogs"]
    check(len(d) == 1 and d[0]["state"] == "start" and d[0]["type"] == "mt call" and "ue@" in d[0]["to"], f"dialog_get: {d}")
    check(c.ok("dialog_get", session_id="other")["dialogs"] == [], "dialog_get filter")
    r = c.call("dialog_set", session_id=sid, action="downgrade")
    check("no active video media" in r.get("error", ""), f"dialog_set downgrade of an audio-only MT call: {r}")
    # hold: a re-INVITE whose offer puts our media on sendonly (RFC 3264 8.4).
    c.ok("dialog_set", session_id=sid, action="hold")
    reinvite, frm = ue.recv()
    check(reinvite.startswith("INVITE ") and "a=sendonly" in reinvite, f"hold re-INVITE: {reinvite}")
    ue.respond(reinvite, "200 OK", frm, sdp.replace("t=0 0\r\n", "t=0 0\r\na=recvonly\r\n"))
    ack, _ = ue.recv()
    check(ack.startswith("ACK "), f"ACK of the hold: {ack}")
    # The UE's recvonly answer puts the dialog in state hold (seed 000 dialog states).
    ev = next_event(c, "dialog")["dialog"]
    check(ev["session_id"] == sid and ev["state"] == "hold", f"hold dialog event: {ev}")
    # reinvite: our current offer again; the UE's sendrecv answer ends the hold.
    c.ok("dialog_set", session_id=sid, action="reinvite")
    reinvite, frm = ue.recv()
    check(reinvite.startswith("INVITE ") and "m=audio " in reinvite, f"re-INVITE: {reinvite}")
    ue.respond(reinvite, "200 OK", frm, sdp)
    ack, _ = ue.recv()
    check(ack.startswith("ACK "), f"ACK of the re-INVITE: {ack}")
    ev = next_event(c, "dialog")["dialog"]
    check(ev["session_id"] == sid and ev["state"] == "start", f"unheld dialog event: {ev}")
    c.ok("dialog_set", session_id=sid, action="media", rtp=True)
    c.ok("dialog_set", session_id=sid, action="stop", code=200, reason="done")
    bye, frm = ue.recv()
    check(bye.startswith("BYE "), f"BYE after dialog_set stop: {bye}")
    # RFC 3326: the stop's code and reason in a Reason header (protocol SIP by default).
    check('\r\nReason: SIP;cause=200;text="done"\r\n' in bye, f"Reason of the BYE: {bye}")
    ue.respond(bye, "200 OK", frm)
    ev = next_event(c, "dialog")["dialog"]
    check(ev["session_id"] == sid and ev["state"] == "stop", f"stop dialog event: {ev}")
    # seed 000: a stopped dialog persists 30 s, in state stop.
    d = c.ok("dialog_get")["dialogs"]
    check(len(d) == 1 and d[0]["state"] == "stop" and d[0]["event_list"][-1]["state"] == "stop", f"stopped dialog: {d}")
    check("stopped" in c.call("dialog_set", session_id=sid, action="hold").get("error", ""), "no action on a stopped dialog")
    print("OK")


def tls(addr, ca_file):
    import ssl
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    c = Client(addr, scheme="wss", ssl=ctx)
    check(c.hello["message"] == "ready", f"startup over TLS: {c.hello}")
    check("config_get" in c.ok("help")["messages"], "help over TLS")
    r = c.ok("log_get", timeout=0.2, allow_empty=True, max_size=1 << 20)
    check(isinstance(r["logs"], list), f"log_get over TLS: {r}")
    # Plaintext WebSocket on a TLS port is refused.
    try:
        Client(addr)
        fail("plaintext accepted on the TLS port")
    except Exception as e:
        if isinstance(e, SystemExit):
            raise
    print("OK")


def tls_peer(addr, server_cert, client_cert, client_key):
    import ssl
    ctx = ssl.create_default_context(cafile=server_cert)
    ctx.check_hostname = False
    # Without a client certificate the handshake (or the first read) fails.
    try:
        c = Client(addr, scheme="wss", ssl=ctx)
        c.ok("help")
        fail("client without certificate accepted")
    except Exception as e:
        if isinstance(e, SystemExit):
            raise
    ctx.load_cert_chain(client_cert, client_key)
    c = Client(addr, scheme="wss", ssl=ctx)
    check(c.hello["message"] == "ready", f"startup with a client certificate: {c.hello}")
    c.ok("help")
    print("OK")


def sms(addr, core):
    """API sms to a plain-text UE, then the sms event for a MESSAGE a UE sends."""
    domain = "ims.mnc001.mcc001.3gppnetwork.org"
    c = Client(addr)
    c.ok("register", register="sms")
    ue = Ue(core, domain)
    ue.register("ue")
    r = c.ok("sms", impi=f"ue@{domain}", text="hello from the api", sender="+33100")
    check(isinstance(r.get("ids"), list) and r["ids"], f"sms reply: {r}")
    msg, frm = ue.recv()
    check(msg.startswith("MESSAGE ") and "text/plain" in msg and msg.endswith("hello from the api"), f"MT MESSAGE: {msg}")
    ue.respond(msg, "200 OK", frm)
    check(c.ok("users_get")["users"] is not None, "users_get")
    # The UE answers with a text MESSAGE to a number the core serves: an SMS is received.
    d, l = domain, ue.l
    body = "reply from the ue"
    ue.s.sendto((f"MESSAGE sip:ue@{d} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKapim1\r\nMax-Forwards: 70\r\n"
                 f"From: <sip:ue@{d}>;tag=m1\r\nTo: <sip:ue@{d}>\r\nCall-ID: apimsg1\r\nCSeq: 1 MESSAGE\r\n"
                 f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode(), ue.core)
    ev = next_event(c, "sms")
    check(ev.get("text") == body and "ue" in ev.get("sender", "") and isinstance(ev.get("date"), int), f"sms event: {ev}")
    check(c.ok("sms_flush", impi=f"ue@{domain}").get("pending", -1) >= 0, "sms_flush")
    print("OK")


def media_of(c, sid):
    d = c.ok("dialog_get", session_id=sid)["dialogs"]
    check(len(d) == 1 and len(d[0]["medias"]) == 1, f"one dialog with one media: {d}")
    return d[0], d[0]["medias"][0]


def wait_for(what, pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = pred()
        if r:
            return r
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def echo_media(addr, sipp_json, cwd):
    """SIPp calls the echo IMPU and streams RTP: dialog_get medias count it, the event
    list tells the call, dialog_set media off stops the echo and on restarts it,
    reinvite gets answered by SIPp, users_get lists the dialog, stop ends it."""
    c = Client(addr)
    sipp = subprocess.Popen(json.loads(sipp_json), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def started():
            ds = [d for d in c.ok("dialog_get")["dialogs"] if d["type"] == "echo" and d["state"] == "start"]
            return ds and ds[0]["medias"] and ds[0]["medias"][0]["rtp_send_count"] >= 10 and ds[0]
        d = wait_for("echoed RTP", started)
        sid = d["session_id"]
        m = d["medias"][0]
        check(m["type"] == "audio" and m["dir"] == "sendrecv" and m["qos"] in ("disabled", "erab_set"), f"media: {m}")
        check(m["rtp_recv_count"] >= m["rtp_send_count"] >= 10 and m["rtp_addr"].startswith("127.0.0.1:"), f"rtp counters: {m}")
        check(set(m) >= {"rtcp_addr", "rtcp_recv_count", "rtcp_send_count"}, f"seed 000 media fields: {m}")
        events = [(e["type"], e.get("message"), e["state"]) for e in d["event_list"]]
        for e in [("recv", "INVITE", "init"), ("state", None, "init"), ("send", "200 INVITE", "start"), ("state", None, "start"), ("recv", "ACK", "start")]:
            check(e in events, f"event {e} missing from {events}")
        stamps = [e["timestamp"] for e in d["event_list"]]
        check(stamps == sorted(stamps) and stamps[0] >= 0 and stamps[-1] <= d["duration"] + 0.5, f"timestamps: {stamps}")
        ue = [u for u in c.ok("users_get")["users"] if u["impi"].startswith("ue@")]
        check(len(ue) == 1 and any(x["session_id"] == sid for x in ue[0]["dialogs"]), f"users_get dialogs: {ue}")
        # media off: received and counted, not sent back.
        c.ok("dialog_set", session_id=sid, action="media", rtp=False, rtcp=False)
        time.sleep(0.3)
        _, a = media_of(c, sid)
        time.sleep(0.6)
        _, b = media_of(c, sid)
        check(b["rtp_recv_count"] > a["rtp_recv_count"] and b["rtp_send_count"] == a["rtp_send_count"], f"media off: {a} then {b}")
        c.ok("dialog_set", session_id=sid, action="media", rtp=True, rtcp=True)
        time.sleep(0.6)
        _, on = media_of(c, sid)
        check(on["rtp_send_count"] > b["rtp_send_count"], f"media on again: {b} then {on}")
        # reinvite: SIPp answers 200, ringcore acknowledges.
        c.ok("dialog_set", session_id=sid, action="reinvite")
        def reinvited():
            d, _ = media_of(c, sid)
            ev = [(e["type"], e.get("message")) for e in d["event_list"]]
            if ("send", "INVITE") not in ev or ("recv", "200 INVITE") not in ev:
                return False
            return ("send", "ACK") in ev[ev.index(("recv", "200 INVITE")):]
        wait_for("the re-INVITE answered and acknowledged", reinvited, 5)
        r = c.call("dialog_set", session_id=sid, action="downgrade", media="video")
        check("no active video" in r.get("error", ""), f"downgrade of an audio-only echo call: {r}")
        c.ok("dialog_set", session_id=sid, action="stop")
        out, _ = sipp.communicate(timeout=15)
        check(sipp.returncode == 0, f"sipp failed: {out.decode(errors='replace')[-2000:]}")
        # seed 000: the stopped dialog persists, with its final counters.
        d, m = media_of(c, sid)
        check(d["state"] == "stop" and ("state", "stop") in [(e["type"], e["state"]) for e in d["event_list"]], f"stopped: {d}")
        check(m["rtp_send_count"] >= on["rtp_send_count"], f"final counters: {m}")
        ue = [u for u in c.ok("users_get")["users"] if u["impi"].startswith("ue@")]
        check(ue[0]["dialogs"] == [], f"users_get lists current dialogs only: {ue}")
    finally:
        if sipp.poll() is None:
            sipp.kill()
    print("OK")


if __name__ == "__main__":
    scenario, addr, *rest = sys.argv[1:]
    {"messages": messages, "errors": errors, "auth": auth, "log_get": log_get, "events": events, "dialog": dialog, "echo_media": echo_media, "sms": sms, "tls": tls, "tls_peer": tls_peer}[scenario](addr, *rest)
