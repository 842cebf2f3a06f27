#!/usr/bin/env python3
"""SIP MESSAGE throughput and latency through cpmgw, beside SIPp talking to a stateless SIPp responder.

SIPp sends CPIM MESSAGEs of ~200 bytes, each from another user, to bob through cpmgw at increasing
rates (build with -DCMAKE_BUILD_TYPE=Release: scripts/dev.sh bench does); a SIPp device
registered as bob answers each with 200. For each rate it reports failures and the p50/p99 latency from
alice's send to the device's receipt (the message is stored durably before the 202 and delivered
after). A rate counts as sustained when nothing failed, every message arrived, and the p99 latency
stayed under MAX_P99_MS: beyond the sustainable rate messages are still stored and delivered, but
from a backlog that grows for as long as the load lasts. The reference is the same SIPp sender against
a SIPp responder directly, in the same run.
Everything runs on 127.0.0.1. Usage: bench/sip_message_bench.py [build-dir] [seconds-per-rate]
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 5
RATES = [250, 500, 1000, 2000, 4000, 8000]
MAX_P99_MS = 1000
SIPP = os.path.join(ROOT, "tests", "integration", "sipp")


def free_port():
    for _ in range(100):
        t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port)); return port
        except OSError:
            continue
        finally:
            u.close(); t.close()
    raise RuntimeError("no free port")


def scenario(work, name, fill):
    text = open(os.path.join(SIPP, name)).read()
    for k, v in fill.items():
        text = text.replace("@%s@" % k, v)
    path = os.path.join(work, "%d-%s" % (len(os.listdir(work)), name))
    open(path, "w").write(text)
    return path


def trace_times(path, pattern):
    """Times of messages in a SIPp -trace_msg file whose text matches pattern (group 1 = key)."""
    times, stamp = {}, None
    block = []
    def flush():
        if stamp is None: return
        m = re.search(pattern, "\n".join(block))
        if m: times.setdefault(m.group(1), stamp)
    for line in open(path, errors="replace"):
        m = re.match(r"-+ (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d(?:\.\d+|:\d+)?)", line)
        if m:
            flush(); block = []
            raw = m.group(1).replace("  ", " ")
            parts = raw.rsplit(":", 1) if raw.count(":") == 3 else [raw]
            raw = parts[0] + "." + parts[1] if len(parts) == 2 else raw
            try:
                stamp = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S.%f").timestamp()
            except ValueError:
                stamp = None
        else:
            block.append(line)
    flush()
    return times


def percentile(values, p):
    if not values: return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def run_sender(work, target, rate, count, expect, body_tag):
    body = ("From: <sip:alice@localhost>\nTo: <sip:bob@localhost>\nDateTime: 2026-11-26T10:00:00.000Z\n"
            "NS: imdn <urn:ietf:params:imdn>\nimdn.Message-ID: %s-[call_number]\n\n"
            "Content-Type: text/plain; charset=utf-8\n\n%s [call_number] %s" % (body_tag, body_tag, "x" * 60))
    sf = scenario(work, "message.xml", {"EXPECT": expect, "BODY": body})
    # Every message from another user: many conversations, as in a network, rather than one long one
    # (which the gateway delivers strictly one after the other to keep its order).
    text = open(sf).read().replace("From: <[from]>", "From: <sip:user[call_number]@localhost>")
    open(sf, "w").write(text)
    trace = os.path.join(work, "sender-%s-%d.log" % (body_tag, rate))
    cmd = ["sipp", target, "-sf", sf, "-m", str(count), "-r", str(rate), "-l", "20000", "-i", "127.0.0.1",
           "-p", str(free_port()), "-nostdin", "-timeout", str(int(SECONDS * 4 + 30)) + "s", "-trace_msg",
           "-message_file", trace, "-key", "from", "sip:alice@localhost", "-key", "to", "sip:bob@localhost",
           "-key", "content_type", "message/cpim", "-trace_stat", "-stf", os.path.join(work, "stat-%d.csv" % rate)]
    r = subprocess.run(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=SECONDS * 4 + 60)
    failed = 0
    stats = os.path.join(work, "stat-%d.csv" % rate)
    if os.path.exists(stats):
        lines = open(stats).read().strip().splitlines()
        if len(lines) >= 2:
            head, last = lines[0].split(";"), lines[-1].split(";")
            failed = int(last[head.index("FailedCall(C)")]) if "FailedCall(C)" in head else 0
    return r.returncode, failed, trace


def device(work, port, count, tag):
    trace = os.path.join(work, "device-%s.log" % tag)
    sf = scenario(work, "uas_message.xml", {})
    p = subprocess.Popen(["sipp", "-sf", sf, "-m", str(count), "-i", "127.0.0.1", "-p", str(port), "-nostdin",
                          "-trace_msg", "-message_file", trace, "-timeout", str(int(SECONDS * 4 + 60)) + "s"],
                         cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, trace


def latencies(sender_trace, device_trace, tag):
    sent = trace_times(sender_trace, r"MESSAGE sip:bob@localhost[\s\S]*?%s (\d+) x" % tag)
    got = trace_times(device_trace, r"MESSAGE sip:bob@[\s\S]*?%s (\d+) x" % tag)
    return [(got[k] - sent[k]) * 1000 for k in sent if k in got], len(got)


def main():
    if not shutil.which("sipp"):
        sys.exit("sipp not installed (apt-get install sip-tester)")
    work = tempfile.mkdtemp(prefix="cpmgw-sipbench-")
    results = {"gateway": {}, "reference": {}}
    try:
        # Reference: SIPp straight to a stateless SIPp responder.
        for rate in RATES:
            count = int(rate * SECONDS)
            port = free_port()
            dev, trace = device(work, port, count, "ref-%d" % rate)
            time.sleep(0.3)
            code, failed, sender_trace = run_sender(work, "127.0.0.1:%d" % port, rate, count, "200", "ref%d" % rate)
            dev.send_signal(signal.SIGUSR1); dev.wait(timeout=30)
            lat, received = latencies(sender_trace, trace, "ref%d" % rate)
            results["reference"][rate] = (failed, received, count, percentile(lat, 50), percentile(lat, 99))

        # The gateway.
        admin, sip = free_port(), free_port()
        data = os.path.join(work, "data")
        ini = os.path.join(work, "cpmgw.ini")
        open(ini, "w").write("[general]\ndata_dir = %s\nlog_level = warning\n[admin]\nport = %d\n[sip]\nport = %d\n"
                             "[routing]\nlocal_domains = localhost\n"
                             % (data, admin, sip))
        gw = subprocess.Popen([os.path.join(BUILD, "cpmgw"), "--config", ini], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "cpmgw.log"), "w"))
        deadline = time.time() + 15
        while not os.path.exists(os.path.join(data, "admin.token")) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        token = open(os.path.join(data, "admin.token")).read().strip()
        for user in ("alice", "bob"):
            req = urllib.request.Request("http://127.0.0.1:%d/v1/users/sip:%s@localhost" % (admin, user), method="PUT",
                                         data=json.dumps({"password": "secret-" + user}).encode(),
                                         headers={"Authorization": "Bearer " + token,
                                                  "Content-Type": "application/json"})
            urllib.request.urlopen(req).read()
        total = sum(int(r * SECONDS) for r in RATES)
        dport = free_port()
        dev, trace = device(work, dport, total, "gw")
        reg = scenario(work, "register.xml", {"EXPECT": "200"})
        subprocess.run(["sipp", "127.0.0.1:%d" % sip, "-sf", reg, "-m", "1", "-i", "127.0.0.1", "-p",
                        str(free_port()), "-nostdin", "-timeout", "10s", "-au", "bob", "-ap", "secret-bob", "-key",
                        "user", "bob", "-key", "domain", "localhost", "-key", "contact_host", "127.0.0.1", "-key",
                        "contact_port", str(dport), "-key", "expires", "3600", "-key", "caps",
                        ';+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'],
                       cwd=work, check=True, stdout=subprocess.DEVNULL)
        for rate in RATES:
            count = int(rate * SECONDS)
            code, failed, sender_trace = run_sender(work, "127.0.0.1:%d" % sip, rate, count, "202", "gw%d" % rate)
            time.sleep(2)  # deliveries still in flight finish
            lat, received = latencies(sender_trace, trace, "gw%d" % rate)
            results["gateway"][rate] = (failed, received, count, percentile(lat, 50), percentile(lat, 99))
        dev.send_signal(signal.SIGUSR1)
        gw.send_signal(signal.SIGTERM); gw.wait(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("rate/s  | gateway: failed received/sent p50 ms p99 ms | reference: failed received/sent p50 ms p99 ms")
    best = {"gateway": 0, "reference": 0}
    for rate in RATES:
        row = []
        for side in ("gateway", "reference"):
            failed, received, count, p50, p99 = results[side][rate]
            if failed == 0 and received == count and p99 <= MAX_P99_MS:
                best[side] = rate
            row.append("%6d %7d/%-7d %7.1f %7.1f" % (failed, received, count, p50, p99))
        print("%7d | %s | %s" % (rate, row[0], row[1]))
    ratio = best["gateway"] / best["reference"] if best["reference"] else float("nan")
    print("highest sustained rate (0 failures, every message delivered, p99 <= %d ms): gateway=%d/s reference=%d/s "
          "ratio=%.2f (target: >= 10,000/s durable)" % (MAX_P99_MS, best["gateway"], best["reference"], ratio))


if __name__ == "__main__":
    main()
