// What the browser tests share: Debian's chromium through playwright-core
// (never a downloaded browser), the real starpunk binary on a free loopback
// port with a fresh data directory, step/group reporting, and the run that
// stops the server with SIGTERM (exit 0 required) and reports every failure.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.STARPUNK_BIN || path.join(ROOT, 'build', 'release', 'starpunk');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// ---------------------------------------------------------------- helpers

export class TestFailure extends Error {}

export function check(cond, message) {
  if (!cond) throw new TestFailure(message);
}

export const t0 = Date.now();
export function log(msg) {
  process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

// The counts a test reached, as one JSON line appended to the file named by
// RELIABILITY_SUMMARY (bench/reliability/checks.py records them in
// docs/reliability.md); nothing without it.
export function summary(record) {
  const file = process.env.RELIABILITY_SUMMARY;
  if (file) appendFileSync(file, JSON.stringify(record) + '\n');
}

export async function step(name, fn) {
  try {
    await fn();
    log(`ok   ${name}`);
  } catch (e) {
    e.step = name;
    log(`FAIL ${name}`);
    throw e;
  }
}

// A group of dependent steps: the first failing step ends its group, and the
// next group still runs, so one run reports every independent failure.
export const failures = [];
export async function group(name, fn) {
  try {
    await fn();
  } catch (e) {
    failures.push(e);
    log(`     (rest of "${name}" skipped)`);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- server

export class Server {
  constructor(tmp, extraEnv = {}) {
    this.extraEnv = extraEnv;  // on top of the defaults below
    this.tmp = tmp;
    this.output = '';
    this.proc = null;
    this.exit = null;  // {code, signal} once exited
  }

  async start() {
    // The page's absolute URLs (htmx fragment, links) come from SITE_URL, and htmx
    // only requests its own origin: SITE_URL must be the origin the browser uses,
    // so pick the port first. Retry if another process grabs it in between.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await freePort();
      if (await this.#spawn(port)) return;
      log(`server did not start on port ${port} (attempt ${attempt}); retrying`);
    }
    throw new TestFailure(`starpunk did not start:\n${this.tail()}`);
  }

  #spawn(port) {
    this.port = port;
    this.origin = `http://127.0.0.1:${port}`;
    this.output = '';
    this.exit = null;
    const env = {
      PATH: process.env.PATH || '/usr/bin:/bin',
      DATA_PATH: path.join(this.tmp, 'data'),
      HOST: '127.0.0.1',
      PORT: String(port),
      SITE_URL: this.origin,
      DEV_MODE: 'true',
      SESSION_SECRET: 'browser-test-' + 's'.repeat(40),
      WORKERS: '2',
      LOG_LEVEL: 'INFO',
      ...this.extraEnv,
    };
    for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
      if (process.env[k]) env[k] = process.env[k];
    }
    const logFile = createWriteStream(path.join(this.tmp, 'server.log'), { flags: 'a' });
    const proc = spawn(BIN, ['serve'], { cwd: this.tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const onData = (b) => { this.output += b.toString('utf8'); logFile.write(b); };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => { this.exit = { code, signal }; logFile.end(); resolve(this.exit); });
      proc.on('error', (err) => { this.output += `\nspawn error: ${err.message}\n`; this.exit = { code: -1, signal: null }; resolve(this.exit); });
    });
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + 20_000;
      const poll = () => {
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.output);
        if (m) {
          if (Number(m[1]) !== port) return reject(new TestFailure(`server listens on ${m[1]}, asked for ${port}`));
          return resolve(true);
        }
        if (this.exit || Date.now() > deadline) {
          if (!this.exit) proc.kill('SIGKILL');
          return resolve(false);
        }
        setTimeout(poll, 20);
      };
      poll();
    });
  }

  tail(n = 4000) {
    return this.output.slice(-n);
  }

  // SIGTERM, wait; returns {code, signal}. SIGKILL after 15 s.
  async stop() {
    if (!this.proc) return null;
    if (!this.exit) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => { if (!this.exit) this.proc.kill('SIGKILL'); }, 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exit;
  }
}

// ---------------------------------------------------------------- the run

// Starts the server (env on top of Server's defaults, from `prepare`'s
// result), launches chromium, calls run(server, browser, context), then stops
// both and reports: exit code 0 = pass. `prepare` may start helpers (a mock
// token endpoint) and return {env, context, cleanup}.
export async function runBrowserTest({ name, tmpPrefix, timeoutMs, prepare = async () => ({}), describe = () => '', run }) {
  try {
    check(existsSync(BIN), `starpunk binary not found at ${BIN} (set STARPUNK_BIN)`);
    check(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}`);
    const tmp = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    const prepared = await prepare();
    const server = new Server(tmp, prepared.env || {});
    let browser = null;
    let failure = null;
    const watchdog = setTimeout(() => {
      process.stderr.write(`FAIL: timed out after ${timeoutMs / 1000} s\n`);
      if (server.proc && !server.exit) server.proc.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
      process.exit(2);
    }, timeoutMs);
    try {
      await server.start();
      log(`server up at ${server.origin} (${BIN})${describe()}`);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
      log(`chromium ${browser.version()}`);
      await run(server, browser, prepared.context);
      if (failures.length) failure = failures[0];
    } catch (e) {
      failure = e;
    } finally {
      if (browser) await browser.close().catch(() => {});
      if (prepared.cleanup) prepared.cleanup();
      const exit = await server.stop();
      if (exit && (exit.code !== 0 || exit.signal)) {
        const e = new TestFailure(`server exited with code ${exit.code} signal ${exit.signal} after SIGTERM`);
        e.step = 'server stops cleanly on SIGTERM';
        failures.push(e);
        failure = failure || e;
        log(`FAIL ${e.step}`);
      } else if (exit) {
        log('ok   server stops cleanly on SIGTERM (exit 0)');
      }
      clearTimeout(watchdog);
      rmSync(tmp, { recursive: true, force: true });
    }
    if (failure) {
      const all = failures.includes(failure) ? failures.slice() : [...failures, failure];
      let report = '';
      for (const f of all) {
        const where = f.step ? ` in "${f.step}"` : '';
        const what = f instanceof TestFailure ? f.message : (f.stack || String(f));
        report += `\nFAIL${where}: ${what}\n`;
      }
      process.stderr.write(`${report}\n--- server output (tail) ---\n${server.tail()}\n`);
      process.stderr.write(`\n${all.length} failure(s); ${name} FAILED\n`);
      process.exitCode = 1;
      return;
    }
    log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    process.stderr.write(`FAIL: ${e instanceof TestFailure ? e.message : (e.stack || String(e))}\n`);
    process.exitCode = 1;
  }
}
