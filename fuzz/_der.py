"""A structure-aware mutator for PEM and DER keys and certificates.

libFuzzer only sees coverage of Python code, and the DER parsers are compiled (cryptography's
Rust and OpenSSL), so byte flips in base64 text almost never reach them with something new:
the earlier run kept 15 of 136 PEM seeds. This mutator decodes the PEM, parses the DER into a
tree, changes the tree the way a hostile file would (integers at type boundaries, other
algorithm OIDs, dropped, repeated or swapped elements, other tags, DER nested inside OCTET and
BIT STRINGs, non-minimal lengths), and writes a well-formed PEM around it again, so most
mutants get past the framing to the code that interprets the values.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Node", "encode", "mutate_pem", "parse", "parse_pem", "write_pem"]

ByteMutator = Callable[[bytes, int], bytes]

_PEM = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]*)-----\r?\n((?:[A-Za-z0-9-]+: [^\r\n]*\r?\n)*\r?\n?)?"
    rb"([A-Za-z0-9+/=\s]*?)-----END \1-----",
)
LABELS = (
    b"PRIVATE KEY",
    b"ENCRYPTED PRIVATE KEY",
    b"PUBLIC KEY",
    b"RSA PRIVATE KEY",
    b"RSA PUBLIC KEY",
    b"EC PRIVATE KEY",
    b"CERTIFICATE",
    b"DSA PRIVATE KEY",
    b"OPENSSH PRIVATE KEY",
)
# OIDs (content bytes) a key or certificate might name: key types, curves, encryption schemes.
OIDS = tuple(
    bytes.fromhex(h)
    for h in (
        "2a864886f70d010101",  # rsaEncryption
        "2a864886f70d01010a",  # RSASSA-PSS
        "2a8648ce3d0201",  # id-ecPublicKey
        "2a8648ce3d030107",  # prime256v1
        "2b81040022",  # secp384r1
        "2b81040023",  # secp521r1
        "2b8104000a",  # secp256k1
        "2b2403030208010107",  # brainpoolP256r1
        "2b6570",  # Ed25519
        "2b6571",  # Ed448
        "2b656e",  # X25519
        "608648016503040311",  # ML-DSA-44
        "608648016503040312",  # ML-DSA-65
        "608648016503040313",  # ML-DSA-87
        "2a8648ce380401",  # DSA
        "2a864886f70d01050d",  # PBES2
        "2a864886f70d01050c",  # PBKDF2
        "2b06010401da470b",  # scrypt
        "2a864886f70d010c0103",  # pbeWithSHAAnd3-KeyTripleDES-CBC
        "2a864886f70d010c0106",  # pbeWithSHAAnd40BitRC2-CBC
        "2a864886f70d010503",  # pbeWithMD5AndDES-CBC
        "60864801650304012a",  # aes256-CBC
        "608648016503040102",  # aes128-CBC
        "2a864886f70d0307",  # des-ede3-cbc
        "2a864886f70d0209",  # hmacWithSHA256
        "2a864886f70d0207",  # hmacWithSHA1
        "2a864886f70d01010b",  # sha256WithRSAEncryption
        "2a8648ce3d040302",  # ecdsa-with-SHA256
    )
)
# Integers at the edges parsers convert them across: int32, uint32, int64, uint64, the KDF caps.
INTEGERS = (
    0, 1, 2, 3, -1, 127, 128, 255, 256, 2048, 65537,
    2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**64 + 1,
    10_000_000, 10_000_001, 2**20, 2**21 + 1, 2**30, -(2**63), 2**4096 - 1, 2**16385,
)  # fmt: skip
_TAGS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x17, 0x30, 0x31, 0xA0, 0xA1, 0x80, 0x81)


@dataclass
class Node:
    """One DER element: a primitive holds ``content``, a constructed one ``children``."""

    tag: int
    content: bytes = b""
    children: list[Node] | None = None
    long_length: bool = field(default=False, compare=False)


def parse(data: bytes, depth: int = 0) -> list[Node] | None:
    """Parse a run of DER elements; ``None`` when ``data`` is not exactly that."""
    nodes: list[Node] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data) or depth > 24:
            return None
        tag, length = data[offset], data[offset + 1]
        offset += 2
        if tag & 0x1F == 0x1F:
            return None
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4 or offset + count > len(data):
                return None
            length = int.from_bytes(data[offset : offset + count], "big")
            offset += count
        end = offset + length
        if end > len(data):
            return None
        content = data[offset:end]
        if tag & 0x20:
            children = parse(content, depth + 1)
            if children is None:
                return None
            nodes.append(Node(tag, children=children))
        else:
            nodes.append(Node(tag, content))
        offset = end
    return nodes


def encode(nodes: list[Node]) -> bytes:
    """Write DER elements back, with minimal lengths unless a node asks for a long form."""
    out = bytearray()
    for node in nodes:
        content = encode(node.children) if node.children is not None else node.content
        out.append(node.tag)
        size = len(content)
        if size < 0x80 and not node.long_length:
            out.append(size)
        else:
            raw = size.to_bytes(max(1, (size.bit_length() + 7) // 8) + node.long_length, "big")
            out.append(0x80 | len(raw))
            out += raw
        out += content
    return bytes(out)


def parse_pem(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """The (label, header lines, DER) of each well-formed PEM block in ``data``."""
    blocks = []
    for match in _PEM.finditer(data):
        try:
            der = base64.b64decode(b"".join(match.group(3).split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        blocks.append((match.group(1), match.group(2) or b"", der))
    return blocks


def write_pem(label: bytes, headers: bytes, der: bytes, width: int = 64) -> bytes:
    """One PEM block (RFC 7468), with RFC 1421 headers when given."""
    body = base64.b64encode(der)
    lines = b"\n".join(body[i : i + width] for i in range(0, len(body), width))
    return b"-----BEGIN %s-----\n%s%s\n-----END %s-----\n" % (label, headers, lines, label)


def _all_nodes(nodes: list[Node], out: list[tuple[list[Node], int]]) -> None:
    for index, node in enumerate(nodes):
        out.append((nodes, index))
        if node.children is not None:
            _all_nodes(node.children, out)


def _integer(value: int) -> bytes:
    size = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(size, "big", signed=True)


def _mutate_tree(nodes: list[Node], rng: random.Random, mutate: ByteMutator) -> None:
    """Apply one structural change to a random element of the tree, in place."""
    places: list[tuple[list[Node], int]] = []
    _all_nodes(nodes, places)
    if not places:
        return
    siblings, index = rng.choice(places)
    node = siblings[index]
    choice = rng.randrange(10)
    if node.tag == 0x02 and choice < 4:
        current = int.from_bytes(node.content or b"\0", "big", signed=True)
        value = rng.choice(
            (*INTEGERS, current + 1, current - 1, current * 2, -current, rng.getrandbits(64))
        )
        node.content = _integer(value)
    elif node.tag == 0x06 and choice < 5:
        node.content = rng.choice(OIDS)
    elif node.tag in (0x03, 0x04) and choice < 4 and _mutate_nested(node, rng, mutate):
        return
    elif choice == 5 and len(siblings) > 1:
        del siblings[index]
    elif choice == 6:
        siblings.insert(index, _copy(rng.choice(places)))
    elif choice == 7 and len(siblings) > 1:
        other = rng.randrange(len(siblings))
        siblings[index], siblings[other] = siblings[other], siblings[index]
    elif choice == 8:
        node.tag = rng.choice(_TAGS) if node.children is None else rng.choice((0x30, 0x31, 0xA0))
        node.long_length = rng.random() < 0.3
    elif node.children is None:
        node.content = mutate(node.content, len(node.content) + 16)
    else:
        node.children = node.children[: rng.randrange(len(node.children) + 1)]


def _mutate_nested(node: Node, rng: random.Random, mutate: ByteMutator) -> bool:
    """Mutate DER carried inside an OCTET STRING (PKCS#8 private key) or a BIT STRING (SPKI)."""
    skip = 1 if node.tag == 0x03 else 0
    inner = parse(node.content[skip:])
    if not inner:
        return False
    _mutate_tree(inner, rng, mutate)
    node.content = node.content[:skip] + encode(inner)
    return True


def _copy(place: tuple[list[Node], int]) -> Node:
    siblings, index = place
    node = siblings[index]
    return Node(node.tag, node.content, _copy_all(node.children), node.long_length)


def _copy_all(children: list[Node] | None) -> list[Node] | None:
    return None if children is None else [_copy((children, i)) for i in range(len(children))]


def mutate_pem(data: bytes, max_size: int, seed: int, mutate: ByteMutator) -> bytes:
    """Return a mutant of the PEM ``data``; ``mutate`` is the plain byte mutator (libFuzzer's).

    Most mutants change the DER inside and are written back as well-formed PEM; some change
    the PEM framing (label, encryption headers, a second block); the rest, and anything that
    is not PEM, get plain byte mutation.
    """
    rng = random.Random(seed)
    blocks = parse_pem(data)
    if not blocks or rng.random() < 0.15:
        return mutate(data, max_size)
    label, headers, der = rng.choice(blocks)
    tree = parse(der)
    roll = rng.random()
    if tree and roll < 0.75:
        for _ in range(1 + int(rng.expovariate(1.0))):
            _mutate_tree(tree, rng, mutate)
        der = encode(tree)
    elif roll < 0.85:
        label = rng.choice(LABELS)
    elif roll < 0.92:
        headers = rng.choice(
            (
                b"",
                b"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"
                b"00112233445566778899AABBCCDDEEFF\n\n",
                b"Proc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,0011223344556677\n\n",
                b"Proc-Type: 4,ENCRYPTED\n\n",
            )
        )
    else:
        other_label, other_headers, other_der = rng.choice(blocks)
        extra = write_pem(other_label, other_headers, other_der)
        return (write_pem(label, headers, der) + extra)[:max_size]
    return write_pem(label, headers, der, width=rng.choice((64, 64, 64, 76, 1000)))[:max_size]
