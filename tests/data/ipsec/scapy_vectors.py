#!/usr/bin/env python3
"""Independent ESP vectors for ringcore's userspace ESP (src/ipsec).

Builds transport-mode ESP packets with scapy's SecurityAssociation for fixed keys, IVs,
SPIs and sequence numbers and prints one line per packet:

    alg=<integrity> ealg=<encryption> ik=<hex> ck=<hex> spi=<u32> seq=<u32> nh=<u8>
    esp=<hex ESP packet, SPI to ICV> inner=<hex plaintext transport payload>

Regenerate with:  python3 scapy_vectors.py > scapy_vectors.txt   (needs scapy, cryptography)
"""
from scapy.all import IP, UDP, Raw, raw
from scapy.layers.ipsec import ESP, SecurityAssociation

IK = bytes.fromhex("f769bcd751044604127672711c6d3441")
CK = bytes.fromhex("b40ba9a3c58b2a05bbf0d987b21bf8cb")

# (ringcore alg, ringcore ealg, scapy auth, auth key, scapy crypt, crypt key, IV)
# Keys follow TS 33.203 Annex I: IK || 0^32 for SHA-1, CK1||CK2||CK1 for 3DES.
CASES = [
    ("hmac-sha-1-96", "aes-cbc", "HMAC-SHA1-96", IK + bytes(4), "AES-CBC", CK,
     bytes(range(16))),
    ("hmac-md5-96", "null", "HMAC-MD5-96", IK, "NULL", None, None),
    ("hmac-sha-1-96", "des-ede3-cbc", "HMAC-SHA1-96", IK + bytes(4), "3DES", CK + CK[:8],
     bytes(range(0xa0, 0xa8))),
    ("hmac-md5-96", "aes-cbc", "HMAC-MD5-96", IK, "AES-CBC", CK,
     bytes(range(0x10, 0x20))),
]

PAYLOADS = [
    b"REGISTER sip:ims.example.net SIP/2.0\r\nContent-Length: 0\r\n\r\n",
    b"x",
    b"",
]


def main():
    spi = 0x1000
    for alg, ealg, auth, ik, crypt, ck, iv in CASES:
        sa = SecurityAssociation(ESP, spi=spi, crypt_algo=crypt, crypt_key=ck,
                                 auth_algo=auth, auth_key=ik)
        for n, payload in enumerate(PAYLOADS):
            seq = n + 1 if n < 2 else 0x12345678
            inner = UDP(sport=5062, dport=5064) / Raw(payload)
            pkt = IP(src="10.0.0.1", dst="10.0.0.2") / inner
            pkt = IP(raw(pkt))
            kwargs = {"seq_num": seq}
            if iv is not None:
                kwargs["iv"] = iv
            enc = sa.encrypt(pkt, **kwargs)
            esp = raw(enc[ESP])
            print(f"alg={alg} ealg={ealg} ik={IK.hex()} ck={CK.hex()} spi={spi} "
                  f"seq={seq} nh=17 esp={esp.hex()} inner={raw(pkt[UDP]).hex()}")
        spi += 1


if __name__ == "__main__":
    main()
