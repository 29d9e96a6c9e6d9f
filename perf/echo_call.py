#!/usr/bin/env python3
"""Sets up one call to ringcore's echo IMPU and prints the answered media address.

usage: echo_call.py CORE_SIP_ADDR MEDIA_PORT
The INVITE offers PCMU at 127.0.0.1:MEDIA_PORT; after the 200 the ACK is sent and the
script prints "IP:PORT" of the echo's RTP port, then exits (the call stays up until the core
is stopped: it is a benchmark fixture)."""
import socket
import sys

DOMAIN = "ims.mnc001.mcc001.3gppnetwork.org"
host, port = sys.argv[1].rsplit(":", 1)
core = (host, int(port))
mport = int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
l = "%s:%d" % s.getsockname()
sdp = ("v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n" % mport)
inv = ("INVITE sip:echo@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKp1\r\nMax-Forwards: 70\r\n"
       "From: <sip:bench@%s>;tag=b1\r\nTo: <sip:echo@%s>\r\nCall-ID: bench-echo\r\nCSeq: 1 INVITE\r\n"
       "Contact: <sip:bench@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
       % (DOMAIN, l, DOMAIN, DOMAIN, l, len(sdp), sdp))
s.sendto(inv.encode(), core)
while True:
    r = s.recv(8192).decode(errors="replace")
    if not r.startswith("SIP/2.0 1"):
        break
if not r.startswith("SIP/2.0 200"):
    sys.exit("echo call failed: " + r.split("\r\n", 1)[0])
head, body = r.split("\r\n\r\n", 1)
to = next(h for h in head.split("\r\n") if h.lower().startswith("to:"))
ack = ("ACK sip:echo@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKp2\r\nMax-Forwards: 70\r\n"
       "From: <sip:bench@%s>;tag=b1\r\n%s\r\nCall-ID: bench-echo\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
       % (DOMAIN, l, DOMAIN, to))
s.sendto(ack.encode(), core)
ip = next(x[len("c=IN IP4 "):].strip() for x in body.split("\r\n") if x.startswith("c=IN IP4 "))
port = next(x.split()[1] for x in body.split("\r\n") if x.startswith("m=audio "))
print("%s:%s" % (ip, port))
