#!/usr/bin/env python3
"""pad_vocab.py SRC.gguf N_TOKENS OUT.gguf [PRE]

Writes a vocab-only GGUF: SRC's metadata with tokenizer.ggml.tokens (and token_type, scores)
padded with unique placeholder tokens "<|bench_pad_K|>" up to N_TOKENS, and optionally
tokenizer.ggml.pre set to PRE. bench/make-models.sh uses it to give `hearth synth` a vocabulary
of Qwen2's size (151936), whose real tokenizer file is not among the shared vocab files: the
model's shape, not its tokenizer, decides its speed. Pure Python (no numpy, no gguf-py).
"""
import struct
import sys

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
          BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.d[self.p:self.p + n]
        self.p += n
        return s

    def value(self, t):
        if t in SCALAR:
            return self.take(SCALAR[t])
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        raise ValueError(f"unknown GGUF value type {t}")


def put_value(out, t, v):
    if t in SCALAR:
        out += struct.pack(SCALAR[t], v)
    elif t == STRING:
        out += struct.pack("<Q", len(v)) + v
    elif t == ARRAY:
        et, items = v
        out += struct.pack("<IQ", et, len(items))
        for x in items:
            put_value(out, et, x)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    src, n_tokens, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pre = sys.argv[4] if len(sys.argv) == 5 else None
    r = Reader(open(src, "rb").read())
    if r.take("<4s") != b"GGUF":
        sys.exit(f"{src}: not a GGUF file")
    version, n_tensors, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    if n_tensors != 0:
        sys.exit(f"{src}: has tensors; give a vocab-only file")
    kvs = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kvs.append([key, t, r.value(t)])
    tokens = next(kv for kv in kvs if kv[0] == b"tokenizer.ggml.tokens")[2][1]
    n_old = len(tokens)
    if n_tokens < n_old:
        sys.exit(f"{src} already has {n_old} tokens")
    for key, t, v in kvs:
        if key == b"tokenizer.ggml.tokens":
            v[1].extend(f"<|bench_pad_{k}|>".encode() for k in range(n_tokens - n_old))
        elif key == b"tokenizer.ggml.token_type":
            v[1].extend([1] * (n_tokens - n_old))  # normal tokens: never parsed as control text
        elif key == b"tokenizer.ggml.scores":
            v[1].extend([0.0] * (n_tokens - n_old))
    if pre is not None:
        for kv in kvs:
            if kv[0] == b"tokenizer.ggml.pre":
                kv[2] = pre.encode()
    out = bytearray(struct.pack("<4sIQQ", b"GGUF", version, 0, len(kvs)))
    for key, t, v in kvs:
        put_value(out, STRING, key)
        out += struct.pack("<I", t)
        put_value(out, t, v)
    out += b"\0" * ((-len(out)) % 32)  # the (empty) data section starts aligned
    open(dst, "wb").write(out)
    print(f"{dst}: {n_old} -> {n_tokens} tokens")


if __name__ == "__main__":
    main()
