#!/usr/bin/env python3
"""An IMS UE with IPsec built on scapy, independent of ringcore's code: sec-agree
(RFC 3329, TS 33.203 7), AKA (Milenage, TS 35.206) and the RFC 3310 digest, SAs with
keys from IK/CK (TS 33.203 Annex I) in scapy's SecurityAssociation, UDP-encapsulated
tunnel-mode ESP (RFC 3948, mod=UDP-enc-tun) over the UE's protected UDP ports, or
transport-mode ESP (mod=trans) over a raw ESP socket, over IPv4 or IPv6 (the core's
address family; an IPv6 core takes `--ue-ip` or the host's first global IPv6 address).

Scenarios (--scenario):
  full     register over ESP, tamper (flipped bit, replay, unknown SPI), re-register,
           de-register; prints one JSON line of results.
  basic    register over ESP only.
  options  register over ESP, then an OPTIONS over the SA.
  reject   offer only what the core must refuse; expect 494.
Exit status 0 when every expectation held; an AssertionError otherwise.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import socket
import sys
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.packet import Raw

WAIT = 1.5  # seconds to wait for an answer that must come
SILENCE = 0.7  # seconds of silence that show a packet was dropped
# The core removes an SA set just after the response that ends it (TS 33.203 7.4, 7.9);
# probes of removed sets wait this long so they do not overtake the removal.
SETTLE = 0.2


# --- Milenage (TS 35.206 4.1) ---------------------------------------------------------

def aes(k, block):
    e = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def rot(x, bits):
    n = bits // 8
    return x[n:] + x[:n]


def milenage(k, op, rand):
    """RES, CK, IK for RAND (f2, f3, f4 with the default r and c constants)."""
    opc = xor(aes(k, op), op)
    temp = aes(k, xor(rand, opc))

    def out(r, c):
        cst = bytes(15) + bytes([c])
        return xor(aes(k, xor(rot(xor(temp, opc), r), cst)), opc)

    out2 = out(0, 1)
    return out2[8:16], out(32, 2), out(64, 4)


# --- SIP helpers ------------------------------------------------------------------------

def header(msg, name):
    for line in msg.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def params(value):
    out = {}
    for part in value.split(";")[1:]:
        k, _, v = part.partition("=")
        out[k.strip().lower()] = v.strip()
    return out


def digest_param(value, name):
    for part in value[len("Digest "):].split(","):
        k, _, v = part.strip().partition("=")
        if k.lower() == name:
            return v.strip('"')
    return None


def global_ipv6():
    """The host's first global-scope IPv6 address (/proc/net/if_inet6), or None."""
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                hexaddr, _, _, scope = line.split()[:4]
                if scope == "00":
                    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex(hexaddr))
    except OSError:
        pass
    return None


def addr_text(ip):
    return "[%s]" % ip if ":" in ip else ip


class Ue:
    def __init__(self, a):
        self.a = a
        host, port = a.core.rsplit(":", 1)
        self.core = (host.strip("[]"), int(port))
        self.v6 = ":" in self.core[0]
        self.family = socket.AF_INET6 if self.v6 else socket.AF_INET
        self.L3 = IPv6 if self.v6 else IP
        self.transport = a.mode == "trans"
        # Transport mode runs over raw ESP sockets; a UE address of its own keeps the core's
        # packets and the UE's apart on loopback (IPv6 has no second loopback address: a
        # global address of the host, routed over lo all the same).
        if self.v6:
            self.ip = a.ue_ip or (global_ipv6() if self.transport else "::1")
            assert self.ip, "no global IPv6 address for the UE (use --ue-ip)"
        else:
            self.ip = a.ue_ip or ("127.0.0.2" if self.transport else "127.0.0.1")
        self.raw = None
        if self.transport:
            self.raw = socket.socket(self.family, socket.SOCK_RAW, 50)
            self.raw.bind((self.ip, 0))
        self.unprotected = self.udp(0)
        self.port_s_sock = self.udp(0)
        self.port_s = self.port_s_sock.getsockname()[1]
        self.cseq = 0
        self.call_id = "ipsec-%08x@ue" % random.getrandbits(32)
        self.tag = "%08x" % random.getrandbits(32)
        self.k = bytes.fromhex(a.k)
        self.op = bytes.fromhex(a.op)
        self.sa = None  # the SA set in use

    def udp(self, port):
        s = socket.socket(self.family, socket.SOCK_DGRAM)
        s.bind((self.ip, port))
        return s

    def new_client(self):
        """Fresh protected client port and SPIs for a new SA set (TS 33.203 7.4)."""
        sock = self.udp(0)
        return {
            "sock": sock,
            "port_c": sock.getsockname()[1],
            "spi_c": random.randint(0x10000, 0xFFFFFF),
            "spi_s": random.randint(0x10000, 0xFFFFFF),
        }

    def security_client(self, c, alg=None, ealg=None, mode=None):
        return "ipsec-3gpp;alg=%s;ealg=%s;spi-c=%d;spi-s=%d;port-c=%d;port-s=%d;prot=esp;mod=%s" % (
            alg or self.a.alg, ealg or self.a.ealg, c["spi_c"], c["spi_s"], c["port_c"], self.port_s,
            mode or self.a.mode)

    def request(self, src_port, extra, expires=600000, transport="UDP"):
        self.cseq += 1
        lines = [
            "REGISTER sip:%s SIP/2.0" % DOMAIN,
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%08x;rport" % (
                transport, addr_text(self.ip), src_port, random.getrandbits(32)),
            "Max-Forwards: 70",
            "From: <%s>;tag=%s" % (self.a.impu, self.tag),
            "To: <%s>" % self.a.impu,
            "Call-ID: " + self.call_id,
            "CSeq: %d REGISTER" % self.cseq,
            "Contact: <sip:%s@%s:%d>;expires=%d" % (
                self.a.impi.split("@")[0], addr_text(self.ip), self.port_s, expires),
            "Expires: %d" % expires,
            "Supported: path, sec-agree",
        ] + extra
        return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()

    def authorization(self, challenge):
        if challenge is None:
            return 'Digest username="%s",realm="%s",uri="sip:%s",nonce="",response=""' % (
                self.a.impi, DOMAIN, DOMAIN)
        nonce = digest_param(challenge, "nonce")
        realm = digest_param(challenge, "realm")
        qop = digest_param(challenge, "qop")
        raw = base64.b64decode(nonce + "=" * (-len(nonce) % 4))
        res, ck, ik = milenage(self.k, self.op, raw[:16])
        self.ck, self.ik = ck, ik
        md5 = lambda b: hashlib.md5(b).hexdigest()
        ha1 = md5(self.a.impi.encode() + b":" + realm.encode() + b":" + res)
        ha2 = md5(("REGISTER:sip:%s" % DOMAIN).encode())
        v = 'Digest username="%s",realm="%s",uri="sip:%s",nonce="%s",algorithm=AKAv1-MD5' % (
            self.a.impi, realm, DOMAIN, nonce)
        if qop:
            cnonce = "%08x" % random.getrandbits(32)
            resp = md5(("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2)).encode())
            return v + ',qop=auth,nc=00000001,cnonce="%s",response="%s"' % (cnonce, resp)
        return v + ',response="%s"' % md5(("%s:%s:%s" % (ha1, nonce, ha2)).encode())

    # --- SAs -----------------------------------------------------------------------------

    def make_sas(self, client, server_value):
        """The UE's half of the four SAs of TS 33.203 7.1, from the 401's Security-Server."""
        p = params(server_value)
        alg, ealg = p["alg"], p.get("ealg", "null")
        assert p.get("mod", "trans").lower() == self.a.mode.lower(), server_value
        auth, crypt = {"hmac-sha-1-96": ("HMAC-SHA1-96", self.ik + bytes(4)),
                       "hmac-md5-96": ("HMAC-MD5-96", self.ik)}[alg]
        ckey = {"aes-cbc": self.ck, "null": None,
                "des-ede3-cbc": self.ck[:8] + self.ck[8:] + self.ck[:8]}[ealg]
        calg = {"aes-cbc": "AES-CBC", "null": "NULL", "des-ede3-cbc": "3DES"}[ealg]
        core_ip = self.core[0]
        pc_p, ps_p = int(p["port-c"]), int(p["port-s"])

        def sa(spi, src, dst, sport, dport):
            if self.transport:
                return SecurityAssociation(
                    ESP, spi=spi, crypt_algo=calg, crypt_key=ckey, auth_algo=auth, auth_key=crypt)
            return SecurityAssociation(
                ESP, spi=spi, crypt_algo=calg, crypt_key=ckey, auth_algo=auth, auth_key=crypt,
                tunnel_header=self.L3(src=src, dst=dst), nat_t_header=UDP(sport=sport, dport=dport))

        return {
            "client": client,
            "server": server_value,
            "core_port_s": ps_p,
            "core_port_c": pc_p,
            # UE port-c -> P-CSCF port-s (the P-CSCF's spi-s) and back (the UE's spi-c).
            "out": sa(int(p["spi-s"]), self.ip, core_ip, client["port_c"], ps_p),
            "in": sa(client["spi_c"], core_ip, self.ip, ps_p, client["port_c"]),
            "spi_out": int(p["spi-s"]),
        }

    def esp_bytes(self, sa, sip):
        inner = self.L3(src=self.ip, dst=self.core[0]) / UDP(sport=sa["client"]["port_c"], dport=sa["core_port_s"]) / Raw(sip)
        return self.seal(sa, inner)

    def seal(self, sa, inner):
        """The ESP bytes (UDP payload or IP payload) carrying IP packet `inner`."""
        pkt = sa["out"].encrypt(inner)
        if self.transport:
            return bytes(pkt[ESP])
        return bytes(pkt[UDP].payload)

    def send_esp(self, sa, data):
        if self.transport:
            self.raw.sendto(data, (self.core[0], 0))
        else:
            sa["client"]["sock"].sendto(data, (self.core[0], sa["core_port_s"]))

    def recv_esp(self, sa, timeout):
        """The SIP text of the next ESP packet for the SA's client port, or None."""
        inner = self.recv_inner(sa, timeout)
        if inner is None:
            return None
        assert inner[UDP].sport == sa["core_port_s"] and inner[UDP].dport == sa["client"]["port_c"], inner.summary()
        return bytes(inner[UDP].payload).decode()

    def recv_inner(self, sa, timeout):
        """The decrypted inner packet of the next ESP packet for the SA, or None."""
        s = self.raw if self.transport else sa["client"]["sock"]
        s.settimeout(timeout)
        try:
            data, frm = s.recvfrom(65536)
        except socket.timeout:
            return None
        if self.transport and self.v6:
            # RFC 3542 3: an IPv6 raw socket passes the ESP packet without the IPv6 header.
            assert frm[0] == self.core[0], frm
            outer = IPv6(src=frm[0], dst=self.ip, nh=50) / ESP(data)
        elif self.transport:
            outer = IP(data)
            assert outer.src == self.core[0] and outer.proto == 50, outer.summary()
        else:
            assert frm[:2] == (self.core[0], sa["core_port_s"]), frm
            outer = self.L3(src=self.core[0], dst=self.ip) / UDP(sport=frm[1], dport=sa["client"]["port_c"]) / ESP(data)
        inner = sa["in"].decrypt(outer)
        if not inner.haslayer(self.L3):
            inner = self.L3(src=self.core[0], dst=self.ip) / inner
        return inner

    def recv_plain(self, timeout=WAIT):
        self.unprotected.settimeout(timeout)
        data, _ = self.unprotected.recvfrom(65536)
        return data.decode()

    # --- flows ---------------------------------------------------------------------------

    def initial(self, alg=None, ealg=None, mode=None):
        """Unprotected REGISTER with Security-Client; returns the answer and the new port."""
        client = self.new_client()
        sc = self.security_client(client, alg, ealg, mode)
        req = self.request(self.unprotected.getsockname()[1], [
            "Authorization: " + self.authorization(None),
            "Security-Client: " + sc,
            "Require: sec-agree",
            "Proxy-Require: sec-agree",
        ])
        self.unprotected.sendto(req, self.core)
        return self.recv_plain(), client

    def protected(self, sa, challenge=None, new_client=None, expires=600000, verify=None):
        """REGISTER over `sa` with Security-Verify (and credentials for `challenge`)."""
        extra = ["Security-Verify: " + (verify or sa["server"]), "Require: sec-agree", "Proxy-Require: sec-agree"]
        nc = new_client or sa["client"]
        extra.append("Security-Client: " + self.security_client(nc))
        if challenge is not None:
            extra.append("Authorization: " + self.authorization(challenge))
        req = self.request(sa["client"]["port_c"], extra, expires)
        data = self.esp_bytes(sa, req)
        self.send_esp(sa, data)
        return data

    def authenticate(self, resp401, client, expires=600000):
        """From a 401 with Security-Server: SAs, then the authenticated REGISTER over them."""
        assert resp401.startswith("SIP/2.0 401"), resp401
        server = header(resp401, "Security-Server")
        assert server, resp401
        challenge = header(resp401, "WWW-Authenticate")
        self.authorization(challenge)  # IK and CK of this challenge
        sa = self.make_sas(client, server)
        self.protected(sa, challenge, expires=expires)
        answer = self.recv_esp(sa, WAIT)
        assert answer and answer.startswith("SIP/2.0 200"), answer
        return sa, answer


DOMAIN = "ims.mnc001.mcc001.3gppnetwork.org"


def silent(ue, sa):
    return ue.recv_esp(sa, SILENCE) is None


def scenario_full(ue):
    results = {}
    resp, client = ue.initial()
    sa1, ok = ue.authenticate(resp, client)
    results["registered"] = ok.split("\r\n")[0]
    # RFC 3329 2.4: a Security-Verify that does not echo the Security-Server is refused.
    ue.protected(sa1, verify=sa1["server"].replace("alg=", "alg=x"))
    answer = ue.recv_esp(sa1, WAIT)
    results["bad_verify"] = answer.split("\r\n")[0] if answer else None
    # Flipped bit: the ICV fails, nothing answers.
    data = bytearray(ue.esp_bytes(sa1, ue.request(client["port_c"], ["Security-Verify: " + sa1["server"]])))
    data[len(data) // 2] ^= 0x01
    ue.send_esp(sa1, bytes(data))
    results["flipped_bit_silent"] = silent(ue, sa1)
    # Replay of the authenticated REGISTER's packet: dropped before the transaction layer
    # (which would re-send its 200).
    replay = ue.protected(sa1)  # a valid packet, answered
    first = ue.recv_esp(sa1, WAIT)
    assert first and first.startswith("SIP/2.0"), first
    ue.send_esp(sa1, replay)
    results["replay_silent"] = silent(ue, sa1)
    # Unknown SPI.
    bogus = bytearray(replay)
    # Same low bits as the real SPI: the core steers raw ESP to workers by them.
    bogus[0:4] = ((0xABCDEF << 8) | (sa1["spi_out"] & 0xFF)).to_bytes(4, "big")
    ue.send_esp(sa1, bytes(bogus))
    results["unknown_spi_silent"] = silent(ue, sa1)
    # Re-registration over sa1 offering a new SA set; a challenge moves to the new set.
    c2 = ue.new_client()
    ue.protected(sa1, new_client=c2)
    answer = ue.recv_esp(sa1, WAIT)
    assert answer, "no answer to the re-REGISTER"
    if answer.startswith("SIP/2.0 401"):
        sa2, _ = ue.authenticate(answer, c2)
        # The old set is gone once the new one carried a successful REGISTER.
        time.sleep(SETTLE)
        ue.protected(sa1)
        results["old_set_removed"] = silent(ue, sa1)
        sa1 = sa2
    results["reregistered"] = answer.split("\r\n")[0]
    # De-registration over the set in use.
    ue.protected(sa1, expires=0)
    answer = ue.recv_esp(sa1, WAIT)
    assert answer, "no answer to the de-REGISTER"
    if answer.startswith("SIP/2.0 401"):
        # Answer the challenge over the set in use (the UE did not offer a new one).
        challenge = header(answer, "WWW-Authenticate")
        ue.protected(sa1, challenge, expires=0)
        answer = ue.recv_esp(sa1, WAIT)
    assert answer and answer.startswith("SIP/2.0 200"), answer
    results["deregistered"] = True
    time.sleep(SETTLE)
    ue.protected(sa1)
    results["sas_removed_on_deregistration"] = silent(ue, sa1)
    # A plain REGISTER makes the core log its ESP counters.
    ue.unprotected.sendto(ue.request(ue.unprotected.getsockname()[1], []), ue.core)
    ue.recv_plain()
    return results


def scenario_tcp(ue):
    """The authenticated REGISTER over TCP inside the SA (TS 33.203 7.1): a TCP handshake
    with the core's userspace stack, the request, the 200 OK read from the stream."""
    resp, client = ue.initial()
    assert resp.startswith("SIP/2.0 401"), resp
    server, challenge = header(resp, "Security-Server"), header(resp, "WWW-Authenticate")
    auth = ue.authorization(challenge)
    sa = ue.make_sas(client, server)
    ip = ue.L3(src=ue.ip, dst=ue.core[0])
    sport, dport = client["port_c"], sa["core_port_s"]
    seq = random.randint(1, 1 << 30)
    ue.send_esp(sa, ue.seal(sa, ip / TCP(sport=sport, dport=dport, flags="S", seq=seq, window=65535)))
    synack = ue.recv_inner(sa, WAIT)
    assert synack is not None and synack[TCP].flags.S and synack[TCP].flags.A, synack
    ack = synack[TCP].seq + 1
    seq += 1
    ue.send_esp(sa, ue.seal(sa, ip / TCP(sport=sport, dport=dport, flags="A", seq=seq, ack=ack, window=65535)))
    req = ue.request(sport, [
        "Security-Verify: " + server, "Security-Client: " + ue.security_client(client),
        "Require: sec-agree", "Proxy-Require: sec-agree", "Authorization: " + auth,
    ], transport="TCP")
    ue.send_esp(sa, ue.seal(sa, ip / TCP(sport=sport, dport=dport, flags="PA", seq=seq, ack=ack, window=65535) / Raw(req)))
    seq += len(req)
    stream = b""
    segments = 0
    while b"\r\n\r\n" not in stream:
        seg = ue.recv_inner(sa, WAIT)
        assert seg is not None, "no answer over TCP; got %r" % stream
        # ipsec_mtu bounds the inner packets the core sends.
        assert len(seg) <= ue.a.mtu, (len(seg), ue.a.mtu)
        t = seg[TCP]
        data = bytes(t.payload)
        if data and t.seq == ack:
            segments += 1
            stream += data
            ack += len(data)
            ue.send_esp(sa, ue.seal(sa, ip / TCP(sport=sport, dport=dport, flags="A", seq=seq, ack=ack, window=65535)))
    text = stream.decode()
    assert text.startswith("SIP/2.0 200"), text
    return {"registered_over_tcp": text.split("\r\n")[0], "segments": segments, "bytes": len(stream)}


def scenario_basic(ue):
    resp, client = ue.initial()
    sa, ok = ue.authenticate(resp, client)
    return {"registered": ok.split("\r\n")[0], "server": sa["server"]}


def scenario_options(ue):
    """Register, then an OPTIONS to the core over the SA, answered over the SA."""
    resp, client = ue.initial()
    sa, ok = ue.authenticate(resp, client)
    port = client["port_c"]
    req = ("\r\n".join([
        "OPTIONS sip:%s SIP/2.0" % DOMAIN,
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08x;rport" % (addr_text(ue.ip), port, random.getrandbits(32)),
        "Max-Forwards: 70",
        "From: <%s>;tag=%s" % (ue.a.impu, ue.tag),
        "To: <sip:%s>" % DOMAIN,
        "Call-ID: options-%08x@ue" % random.getrandbits(32),
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
    ]) + "\r\n\r\n").encode()
    ue.send_esp(sa, ue.esp_bytes(sa, req))
    answer = ue.recv_esp(sa, WAIT)
    assert answer and answer.startswith("SIP/2.0 200"), answer
    return {"registered": ok.split("\r\n")[0], "options_over_sa": answer.split("\r\n")[0]}


def scenario_reject(ue):
    resp, _ = ue.initial(mode=ue.a.reject_mode)
    assert resp.startswith("SIP/2.0 494"), resp
    assert header(resp, "Security-Server"), resp
    return {"status": resp.split("\r\n")[0], "security_server": header(resp, "Security-Server")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--core", required=True)
    ap.add_argument("--impi", required=True)
    ap.add_argument("--impu", required=True)
    ap.add_argument("--k", required=True)
    ap.add_argument("--op", required=True)
    ap.add_argument("--alg", default="hmac-sha-1-96")
    ap.add_argument("--ealg", default="aes-cbc")
    ap.add_argument("--mode", default="UDP-enc-tun")
    ap.add_argument("--reject-mode", default="UDP-enc-tun")
    ap.add_argument("--mtu", type=int, default=1400)
    ap.add_argument("--ue-ip", default=None)
    ap.add_argument("--scenario", default="full")
    a = ap.parse_args()
    ue = Ue(a)
    run = {"full": scenario_full, "basic": scenario_basic, "reject": scenario_reject,
           "tcp": scenario_tcp, "options": scenario_options}[a.scenario]
    print(json.dumps(run(ue)))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
