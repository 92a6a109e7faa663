#!/usr/bin/env python3
"""Benchmark streams built from the real captures in corpus/, for
scripts/bench.sh.

    streams.py CORPUS OUTDIR N     writes OUTDIR/*.bin (N frames each)
    streams.py CORPUS OUTDIR N --only NAME[,NAME...] --files F1,F2,...
                                   one stream of those captures in turn

Streams:
  dsmr5-mix5   five DSMR 5 meters interleaved (one telegram of each in turn)
  dsmr5-mix4   four of them
  dsmr5-mix20  the five, each as four meters (their identification lines
               told apart): 20 interleaved, more layouts than han-read
               remembers (16)
  han-mix      a Norwegian HAN mix: Aidon 1-phase (list 2) and 3-phase
               (list 3), Kaifa and Kamstrup lists 1 and 2, in turn
  p1-all       every P1 capture of the corpus in turn
  han-all      every HAN capture of the corpus in turn

In the mixes each meter's values move from one telegram to the next as a
real meter's do: its clock ticks, powers, currents and voltages change,
energy registers count up (and the CRC or FCS is made again). In the -all
streams every telegram or frame is a first sight: each pass over the corpus
gives each meter a new identity (DSMR: the identification line; HAN: the
last digits of the meter id), so no decoder has seen its layout before.
Captures that must be rejected (bad CRC, truncated ...), encrypted ones and
those of several frames are copied as they are.
"""

import datetime
import json
import os
import random
import re
import sys

# ---------------------------------------------------------------- CRCs


def _table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_ARC = _table(0xA001)
_X25 = _table(0x8408)


def crc_arc(data):
    c = 0
    for b in data:
        c = (c >> 8) ^ _ARC[(c ^ b) & 0xFF]
    return c


def crc_x25(data):
    c = 0xFFFF
    for b in data:
        c = (c >> 8) ^ _X25[(c ^ b) & 0xFF]
    return c ^ 0xFFFF


# ---------------------------------------------------------------- DSMR

_LINE = re.compile(rb"^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)\(")


def dsmr_split(t):
    """(body through '!', CRC digits, rest) or None."""
    bang = t.rfind(b"\n!")
    if bang < 0:
        return None
    bang += 1
    digits = re.match(rb"[0-9A-Fa-f]{0,4}", t[bang + 1:]).group(0)
    return t[: bang + 1], digits, t[bang + 1 + len(digits):]


def dsmr_seal(body, digits, rest):
    if not digits:
        return body + rest
    return body + b"%04X" % crc_arc(body) + rest


def _digits_like(old, rnd):
    """Random digits in place of `old`'s digits, dots and signs kept."""
    return bytes(rnd.choice(b"0123456789") if 48 <= c <= 57 else c for c in old)


def _count_up(old, by):
    """A decimal register `old` (digits and one '.') plus `by` in its last place."""
    s = old.decode()
    point = s.find(".")
    n = int(s.replace(".", "")) + by
    width = len(s) - (1 if point >= 0 else 0)
    t = str(n % 10 ** width).zfill(width)
    if point >= 0:
        t = t[:point] + "." + t[point:]
    return t.encode()


def dsmr_move(t, step, rnd):
    """Telegram `t` as its meter would send it `step` telegrams later."""
    parts = dsmr_split(t)
    if parts is None:
        return t
    body, digits, rest = parts
    out = []
    for line in body.split(b"\n"):
        m = _LINE.match(line)
        if m:
            c, d = int(m.group(3)), int(m.group(4))
            head = line[: m.end()]
            close = line.find(b")", m.end())
            value = line[m.end(): close] if close > 0 else b""
            num, star, unit = value.partition(b"*")
            if (c, d) == (1, 0) and re.fullmatch(rb"\d{12}[SW]", value):
                # The clock: one second a telegram.
                try:
                    when = datetime.datetime.strptime(value[:12].decode(), "%y%m%d%H%M%S")
                except ValueError:
                    when = None  # a clock not set: left as it is
                if when is not None:
                    when += datetime.timedelta(seconds=step)
                    line = head + when.strftime("%y%m%d%H%M%S").encode() + value[12:] + line[close:]
            elif star and d == 7 and re.fullmatch(rb"\d+(\.\d+)?", num):
                # Power, current, voltage: the last three digits move.
                keep = max(len(num) - 3, 0)
                line = head + num[:keep] + _digits_like(num[keep:], rnd) + b"*" + unit + line[close:]
            elif star and d == 8 and re.fullmatch(rb"\d+(\.\d+)?", num):
                # Energy registers count up.
                line = head + _count_up(num, step // 4) + b"*" + unit + line[close:]
        out.append(line)
    return dsmr_seal(b"\n".join(out), digits, rest)


def dsmr_new_meter(t, k):
    """Telegram `t` from meter number `k`: the identification line's last
    characters are `k` in base 36 (same length)."""
    parts = dsmr_split(t)
    if parts is None or not parts[1]:
        return t
    body, digits, rest = parts
    eol = body.find(b"\n")
    line = body[:eol]
    cr = line.endswith(b"\r")
    head = line[:-1] if cr else line
    if len(head) < 8:
        return t
    head = head[:-3] + _base36(k, 3)
    return dsmr_seal(head + (b"\r" if cr else b"") + body[eol:], digits, rest)


def _base36(k, width):
    chars = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = bytearray()
    for _ in range(width):
        out.insert(0, chars[k % 36])
        k //= 36
    return bytes(out)


# ---------------------------------------------------------------- HAN


def hdlc_single(frame):
    """(APDU offset, FCS offset) of an unsegmented HDLC frame carrying an
    LLC header and an unencrypted data notification, or None."""
    if len(frame) < 16 or frame[0] != 0x7E or frame[-1] != 0x7E:
        return None
    fmt = (frame[1] << 8) | frame[2]
    if fmt & 0xF000 != 0xA000 or fmt & 0x0800 or (fmt & 0x7FF) != len(frame) - 2:
        return None
    i = 3
    for _ in range(2):  # destination and source addresses
        while i < len(frame) and not frame[i] & 1:
            i += 1
        i += 1
    i += 1 + 2  # control, HCS
    if frame[i: i + 3] != b"\xe6\xe7\x00" or frame[i + 3] != 0x0F:
        return None
    if crc_x25(frame[1:-3]) != frame[-3] | (frame[-2] << 8):
        return None
    return i + 3, len(frame) - 3


def _axdr_len(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1: i + 1 + k], "big"), i + 1 + k


_FIXED = {0x03: 1, 0x05: 4, 0x06: 4, 0x0F: 1, 0x10: 2, 0x11: 1, 0x12: 2, 0x14: 8, 0x15: 8, 0x16: 1,
          0x17: 4, 0x18: 8, 0x19: 12, 0x1A: 5, 0x1B: 4}


def axdr_leaves(b, i, out):
    """Walks one A-XDR value at `i`; appends (tag, start, end) of its leaves."""
    tag = b[i]
    i += 1
    if tag in (0x01, 0x02):
        n, i = _axdr_len(b, i)
        for _ in range(n):
            i = axdr_leaves(b, i, out)
        return i
    if tag in (0x09, 0x0A, 0x0C):
        n, i = _axdr_len(b, i)
        out.append((tag, i, i + n))
        return i + n
    if tag == 0x00:
        return i
    n = _FIXED[tag]
    out.append((tag, i, i + n))
    return i + n


def han_parse(frame):
    """The leaves of a single-frame notification: (apdu start, header
    date (start, end) or None, leaves), or None."""
    where = hdlc_single(frame)
    if where is None:
        return None
    a, end = where
    i = a + 5  # tag, invoke id
    date = None
    if frame[i] == 0x0C:
        date = (i + 1, i + 13)
        i += 13
    elif frame[i] == 0x09 and frame[i + 1] == 0x0C:
        date = (i + 2, i + 14)
        i += 14
    elif frame[i] == 0x00:
        i += 1
    else:
        return None
    leaves = []
    try:
        if axdr_leaves(frame, i, leaves) != end:
            return None
    except (IndexError, KeyError):
        return None
    return date, leaves


def _is_clock(b):
    return len(b) == 12 and b[0] == 0x07 and 0xE0 <= b[1] <= 0xEF and 1 <= b[2] <= 12


def _clock_plus(b, seconds):
    when = datetime.datetime(
        (b[0] << 8) | b[1], b[2], b[3], b[5] if b[5] != 0xFF else 0, b[6] if b[6] != 0xFF else 0,
        b[7] if b[7] != 0xFF else 0) + datetime.timedelta(seconds=seconds)
    return bytes([when.year >> 8, when.year & 0xFF, when.month, when.day, when.isoweekday(),
                  when.hour, when.minute, when.second]) + b[8:]


def han_seal(frame):
    fcs = crc_x25(frame[1:-3])
    frame[-3] = fcs & 0xFF
    frame[-2] = fcs >> 8
    return bytes(frame)


def han_move(frame, step, rnd):
    parsed = han_parse(frame)
    if parsed is None:
        return frame
    date, leaves = parsed
    f = bytearray(frame)
    spans = [date] if date else []
    spans += [(s, e) for tag, s, e in leaves if tag in (0x09, 0x19) and _is_clock(frame[s:e])]
    for s, e in spans:
        if _is_clock(frame[s:e]):
            f[s:e] = _clock_plus(frame[s:e], step * 10)
    for tag, s, e in leaves:
        if tag in (0x05, 0x06, 0x10, 0x12) and e - s >= 2:
            # Powers, currents, voltages, energies: the low byte moves
            # (and the next one now and then): a reading that changed.
            n = int.from_bytes(frame[s:e], "big")
            n = (n & ~0xFF) | rnd.randrange(256)
            if tag in (0x05, 0x06) and rnd.random() < 0.25:
                n = (n + 256) % (1 << 32)
            f[s:e] = n.to_bytes(e - s, "big")
    return han_seal(f)


def han_new_meter(frame, k):
    parsed = han_parse(frame)
    if parsed is None:
        return frame
    _, leaves = parsed
    f = bytearray(frame)
    for tag, s, e in leaves:
        b = frame[s:e]
        if tag in (0x09, 0x0A) and e - s >= 8 and b[-4:].isdigit():
            f[e - 4: e] = b"%04d" % (k % 10000)
            return han_seal(f)
    return frame


# ---------------------------------------------------------------- streams

DSMR5 = ["p1/dsmr50-iskra-am550-01.txt", "p1/dsmr50-iskra-mt382-01.txt", "p1/dsmr50-mcs-01.txt",
         "p1/dsmr50-sagemcom-t211-01.txt", "p1/dsmr50-spec-example-01.txt"]
HAN_MIX = ["han/aidon-6515-list2-01.bin", "han/aidon-6534-list3-01.bin", "han/kaifa-ma304h3e-list1-01.bin",
           "han/kaifa-ma304h3e-list2-01.bin", "han/kamstrup-omnipower-no-list1-01.bin",
           "han/kamstrup-omnipower-no-list2-01.bin"]


def captures(corpus, protocol):
    with open(os.path.join(corpus, "manifest.json")) as f:
        manifest = json.load(f)
    return [e for e in manifest if e["protocol"] == protocol]


def read(corpus, name):
    with open(os.path.join(corpus, name), "rb") as f:
        b = f.read()
    # A meter ends a telegram with CR LF; some captures stop at the CRC.
    if name.startswith("p1/") and name.endswith(".txt") and not b.endswith(b"\n"):
        b += b"\r\n"
    return b


def mix(corpus, files, n, move):
    """`n` messages: one of each capture in turn, moving."""
    caps = [read(corpus, f) for f in files]
    rnd = random.Random(1)
    out = []
    for i in range(n):
        out.append(move(caps[i % len(caps)], i // len(caps) + 1, rnd))
    return b"".join(out)


def many(corpus, files, copies, n, move):
    """`n` messages: each capture as `copies` meters, one of each in turn,
    moving."""
    caps = [dsmr_new_meter(read(corpus, f), k) for k in range(copies) for f in files]
    rnd = random.Random(1)
    return b"".join(move(caps[i % len(caps)], i // len(caps) + 1, rnd) for i in range(n))


def in_turn(corpus, entries, n, new_meter):
    """`n` messages: every capture in turn, each pass a new meter where the
    capture is one valid, unencrypted message."""
    caps = []
    for e in entries:
        b = read(corpus, e["file"])
        caps.append((b, e["valid"] and not e.get("key") and e["readings"] == 1))
    out = []
    for i in range(n):
        b, vary = caps[i % len(caps)]
        out.append(new_meter(b, i // len(caps)) if vary else b)
    return b"".join(out)


def main():
    corpus, outdir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(outdir, exist_ok=True)

    def write(name, data):
        with open(os.path.join(outdir, name + ".bin"), "wb") as f:
            f.write(data)

    if "--files" in sys.argv:
        # One stream of the named captures in turn, as in p1-all/han-all.
        name = sys.argv[sys.argv.index("--only") + 1]
        files = sys.argv[sys.argv.index("--files") + 1].split(",")
        by_file = {e["file"]: e for e in captures(corpus, "p1") + captures(corpus, "han")}
        entries = [by_file[f] for f in files]
        vary = dsmr_new_meter if entries and entries[0]["protocol"] == "p1" else han_new_meter
        write(name, in_turn(corpus, entries, n, vary))
        return
    write("dsmr5-mix5", mix(corpus, DSMR5, n, dsmr_move))
    write("dsmr5-mix4", mix(corpus, DSMR5[:4], n, dsmr_move))
    write("dsmr5-mix20", many(corpus, DSMR5, 4, n, dsmr_move))
    write("han-mix", mix(corpus, HAN_MIX, n, han_move))
    write("p1-all", in_turn(corpus, captures(corpus, "p1"), n, dsmr_new_meter))
    write("han-all", in_turn(corpus, captures(corpus, "han"), n, han_new_meter))


if __name__ == "__main__":
    main()
