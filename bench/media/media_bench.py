"""Media benchmark (issue 14), every figure with a baseline from the same run:

1. Resident memory of the server while a 20 MB upload streams in and is
   processed (POST /micropub/media, body spooled to disk), against the same
   20 MB sent as an ordinary in-memory body (POST /micropub, form-encoded,
   MAX_CONTENT_LENGTH raised for it): growth must not follow the file size.
2. Time to process a 12-megapixel JPEG through the endpoint (p50 of N
   uploads), against `vips copy` of the same file (decode + encode once, in a
   separate process) and an upload of a 64×64 image (endpoint overhead).
3. /media/ serving: wrk req/s for one stored file against nginx serving the
   same bytes (sendfile, open_file_cache, same caching headers), same CPU,
   alternating order per round; the ratio is the verdict (target >= 0.8).

Usage: media_bench.py STARPUNK_BIN WORKDIR   (run.sh sets the environment)
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from conftest import Server  # noqa: E402
from test_micropub import MockTokenEndpoint  # noqa: E402

BIN, WORK = sys.argv[1], Path(sys.argv[2])
os.environ["STARPUNK_BIN"] = BIN
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "5"))
CONNS = int(os.environ.get("CONNS", "16"))
UPLOADS = int(os.environ.get("UPLOADS", "5"))
SERVER_CPU = os.environ.get("SERVER_CPU", "0")
WRK_CPU = os.environ.get("WRK_CPU", "1")


def vips(*args):
    subprocess.run(["vips", *map(str, args)], check=True)


def noise_jpeg(path, w, h, q):
    src = path.with_suffix(".v")
    vips("gaussnoise", src, w, h, "--mean", 128, "--sigma", 60)
    vips("copy", src, f"{path}[Q={q}]")
    src.unlink()
    return path.read_bytes()


def multipart(data, filename="a.jpg"):
    b = "----bench" + uuid.uuid4().hex
    body = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def send_slowly(port, head, body, pid, samples):
    """Sends head + body in 64 KiB pieces, sampling the server's RSS as it goes;
    returns the status line and the RSS seen while the body was in flight."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.sendall(head)
    during = []
    for i in range(0, len(body), 65536):
        s.sendall(body[i:i + 65536])
        if (i // 65536) % 8 == 0:
            during.append(rss_kib(pid))
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(rss_kib(pid))
            time.sleep(0.002)

    t = threading.Thread(target=sample)
    t.start()
    answer = s.recv(65536)
    stop.set()
    t.join()
    s.close()
    return answer.split(b"\r\n", 1)[0].decode(), during


def memory(server, token, big):
    pid = server.proc.pid
    body, ctype = multipart(big)
    head = (f"POST /micropub/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    before = rss_kib(pid)
    after_processing = []
    status, during = send_slowly(server.port, head, body, pid, after_processing)
    upload = (status, before, max(during), max(after_processing + [0]))
    # Baseline: the same number of bytes as an in-memory body (form field).
    form = b"h=entry&content=" + b"x" * len(body)
    head = (f"POST /micropub HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    before2 = rss_kib(pid)
    status2, during2 = send_slowly(server.port, head, form, pid, [])
    return upload, (status2, before2, max(during2 + [rss_kib(pid)]))


def post(server, token, data):
    body, ctype = multipart(data)
    c = server.conn(timeout=120)
    t = time.perf_counter()
    c.request("POST", "/micropub/media", body=body,
              headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
    r = c.getresponse()
    r.read()
    took = time.perf_counter() - t
    c.close()
    assert r.status == 201, r.status
    return took, r.getheader("Location")


def wrk(port, path):
    out = subprocess.run(["taskset", "-c", WRK_CPU, "wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors for {path} on port {port}:\n{out}")
    return float(m.group(1))


def same_bytes(port_a, port_b, path):
    """Both servers answer 200 with identical bodies (else the comparison is void)."""
    import urllib.request
    bodies = []
    for port in (port_a, port_b):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
            assert r.status == 200, (port, r.status)
            bodies.append(r.read())
    assert bodies[0] == bodies[1], f"{path}: the servers send different bytes"
    return len(bodies[0])


def nginx(root, port, work):
    conf = work / "nginx.conf"
    for d in ("logs", "tmp"):
        (work / d).mkdir(exist_ok=True)
    conf.write_text(f"""
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{ image/jpeg jpg; }}
    access_log off; sendfile on; tcp_nopush on; tcp_nodelay on;
    open_file_cache max=100 inactive=60s; open_file_cache_valid 60s;
    keepalive_requests 100000; server_tokens off; etag on;
    client_body_temp_path {work}/tmp/body; proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fcgi; uwsgi_temp_path {work}/tmp/uwsgi; scgi_temp_path {work}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /media/ {{
            add_header Cache-Control "public, max-age=31536000, immutable" always;
            add_header X-Content-Type-Options nosniff always;
            add_header Content-Security-Policy "default-src 'self'" always;
            add_header Referrer-Policy strict-origin-when-cross-origin always;
            add_header X-Frame-Options DENY always;
        }}
    }}
}}
""")
    return subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-p", f"{work}/", "-e", f"{work}/logs/error.log",
                             "-c", str(conf), "-g", "daemon off;"])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    mock = MockTokenEndpoint()
    token = mock.grant("media create")
    env = {"SITE_URL": "http://127.0.0.1:8000", "ADMIN_ME": mock.profile, "TOKEN_ENDPOINT": mock.endpoint,
           "ALLOW_HTTP_ENDPOINTS": "true", "LOG_LEVEL": "WARNING", "MAX_UPLOAD_SIZE": "64M",
           "MAX_CONTENT_LENGTH": "64M", "MAX_NOTE_SIZE": "64M"}
    (WORK / "sp").mkdir()
    server = Server(WORK / "sp", env)
    server.proc.wait  # noqa: B018
    subprocess.run(["taskset", "-pc", SERVER_CPU, str(server.proc.pid)], check=True, capture_output=True)
    try:
        # 1. memory
        big = noise_jpeg(WORK / "big.jpg", 5000, 4000, 100)
        while len(big) < 20 * 1024 * 1024:
            big = noise_jpeg(WORK / "big.jpg", 5000, 5000, 100)
        (status, before, during, processing), (status2, before2, during2) = memory(server, token, big)
        print(f"upload_bytes {len(big)}")
        print(f"upload_status {status}")
        print(f"upload_rss_before_kib {before}")
        print(f"upload_rss_peak_while_receiving_kib {during}")
        print(f"upload_rss_peak_while_processing_kib {processing}")
        print(f"upload_growth_receiving_kib {during - before}")
        print(f"baseline_inmemory_status {status2}")
        print(f"baseline_inmemory_growth_receiving_kib {during2 - before2}")

        # 2. processing time, 12 MP
        twelve = [noise_jpeg(WORK / f"12mp-{i}.jpg", 4000, 3000, 90) for i in range(UPLOADS)]
        times = [post(server, token, d)[0] for d in twelve]
        small = [noise_jpeg(WORK / f"s-{i}.jpg", 64, 64, 90) for i in range(UPLOADS)]
        small_times = [post(server, token, d)[0] for d in small]
        cli = []
        for i in range(UPLOADS):
            t = time.perf_counter()
            vips("copy", WORK / f"12mp-{i}.jpg", f"{WORK}/out-{i}.jpg[Q=90,strip]")
            cli.append(time.perf_counter() - t)
        print(f"process_12mp_p50 {statistics.median(times) * 1000:.1f} ms")
        print(f"process_12mp_max {max(times) * 1000:.1f} ms")
        print(f"baseline_vips_copy_12mp_p50 {statistics.median(cli) * 1000:.1f} ms")
        print(f"baseline_upload_64px_p50 {statistics.median(small_times) * 1000:.1f} ms")

        # 3. serving, against nginx
        _, location = post(server, token, noise_jpeg(WORK / "serve.jpg", 1600, 1200, 85))
        path = "/media/" + location.split("/media/", 1)[1]
        variant = path.replace(".jpg", "-640.jpg")
        root = WORK / "ngroot"
        for p in (path, variant):
            target = root / p.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(server.data / "media" / p[len("/media/"):], target)
        port = free_port()
        ng = nginx(root, port, WORK)
        time.sleep(0.5)
        try:
            for name, p in (("variant_640", variant), ("full_size", path)):
                size = same_bytes(server.port, port, p)
                ratios = []
                for r in range(ROUNDS):
                    order = [("starpunk", server.port), ("nginx", port)]
                    if r % 2:
                        order.reverse()
                    got = {who: wrk(prt, p) for who, prt in order}
                    ratios.append(got["starpunk"] / got["nginx"])
                    print(f"serve_{name}_round{r} bytes={size} starpunk={got['starpunk']:.0f} "
                          f"nginx={got['nginx']:.0f} ratio={ratios[-1]:.2f}")
                print(f"serve_{name}_ratio_median {statistics.median(ratios):.2f}")
        finally:
            ng.terminate()
            ng.wait()
    finally:
        server.stop()
        mock.close()


main()
