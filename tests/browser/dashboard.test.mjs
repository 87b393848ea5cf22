// Real-browser test of the metrics dashboard (/admin/metrics-dashboard).
//
// Starts the real starpunk binary (STARPUNK_BIN, default build/release/starpunk)
// on a free loopback port with a fresh temporary data directory, drives Debian's
// headless /usr/bin/chromium with playwright-core (never downloads a browser),
// and checks:
//   1. as the admin (via /dev/login) the three Chart.js charts are drawn
//      (canvas pixels) and #metrics-charts is visible;
//   2. no console error, no page error, no CSP violation, no failed /static request;
//   3. htmx refreshes the figures in place (no reload) after new traffic, and the
//      charts are redrawn from the fresh data;
//   4. with JavaScript disabled the server-rendered figures are complete and no
//      empty chart frames are shown;
//   5. an anonymous visitor is redirected to /auth/login.
// Stops the server with SIGTERM, requires exit code 0, removes its temp dir.
// Exit status 0 = pass; non-zero with a message on stderr = failure.
//
// Run: node tests/browser/dashboard.test.mjs

import { TestFailure, check, log, step, group, runBrowserTest } from './harness.mjs';

const OVERALL_TIMEOUT_MS = 120_000;  // watchdog; a normal run takes ~17 s
const REFRESH_WAIT_MS = 25_000;      // the dashboard refreshes every 10 s
const TYPES = ['database', 'http', 'render'];

// ---------------------------------------------------------------- page probes

// Watches one page: console errors, page errors, failed/erroring /static
// requests, requests leaving the server's origin, main-frame navigations.
function watch(page, origin, problems) {
  const rec = { staticOk: new Set(), navigations: 0, figureRequests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      problems.push(`console error: ${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    const u = new URL(req.url());
    // Chromium itself may cancel the favicon fetch when a navigation or swap
    // settles (net::ERR_ABORTED): that is the browser's choice, not a fault.
    // A favicon the server refuses still fails below (status >= 400).
    if (u.pathname === '/static/favicon.svg' && req.failure()?.errorText === 'net::ERR_ABORTED') return;
    if (u.pathname.startsWith('/static/')) problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (u.pathname.startsWith('/static/')) {
      if (res.status() >= 400) problems.push(`static file answered ${res.status()}: ${res.url()}`);
      else rec.staticOk.add(u.pathname);
    }
    if (u.pathname === '/admin/metrics-dashboard/figures') rec.figureRequests.push(res.status());
  });
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin) {
      problems.push(`request left the server's origin: ${u}`);
    }
  });
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) rec.navigations++; });
  return rec;
}

// Runs in the page before any of its scripts: records CSP violations and htmx swaps.
function initProbe() {
  window.__cspViolations = [];
  window.__htmxSwaps = 0;
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({
      directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
      line: e.lineNumber, sample: e.sample,
    });
  });
  document.addEventListener('htmx:afterSettle', (e) => {
    if (e.target && e.target.id === 'metrics-figures') window.__htmxSwaps++;
  });
}

// In the page: for each chart canvas, its size, whether Chart.js owns it, and how
// many pixels are not fully transparent.
function inspectCharts(ids) {
  return ids.map((id) => {
    const c = document.getElementById(id);
    if (!c) return { id, missing: true };
    const r = c.getBoundingClientRect();
    let painted = 0;
    if (c.width > 0 && c.height > 0) {
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
    }
    return {
      id, width: c.width, height: c.height, shownWidth: r.width, shownHeight: r.height,
      painted, total: c.width * c.height, chart: !!(window.Chart && window.Chart.getChart(c)),
    };
  });
}

const CHART_IDS = ['chart-latency', 'chart-pool', 'chart-slow'];

async function assertChartsDrawn(page, when) {
  const hidden = await page.evaluate(() => document.getElementById('metrics-charts').hidden);
  check(!hidden, `${when}: #metrics-charts still has the hidden attribute`);
  const visible = await page.locator('#metrics-charts').isVisible();
  check(visible, `${when}: #metrics-charts is not visible`);
  const charts = await page.evaluate(inspectCharts, CHART_IDS);
  for (const c of charts) {
    check(!c.missing, `${when}: canvas #${c.id} is missing`);
    check(c.chart, `${when}: no Chart.js chart on #${c.id}`);
    check(c.shownWidth > 0 && c.shownHeight > 0, `${when}: canvas #${c.id} has no size on screen (${c.shownWidth}x${c.shownHeight})`);
    // Axes, tick labels and legend alone paint well over 1% of the canvas.
    check(c.painted > c.total * 0.005,
      `${when}: canvas #${c.id} looks blank: ${c.painted} of ${c.total} pixels painted`);
  }
  return charts;
}

function numeric(text) {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(text ?? '');
}

// ---------------------------------------------------------------- the test

async function run(server, browser) {
  const origin = server.origin;

  // ---- 1 + 2: the admin, with JavaScript: charts drawn, no errors, no CSP violations
  const problems = [];
  const ctx = await browser.newContext({ baseURL: origin });
  const page = await ctx.newPage();
  await page.addInitScript(initProbe);
  const rec = watch(page, origin, problems);
  const noErrors = async (when) => {
    const csp = await page.evaluate(() => window.__cspViolations);
    check(csp.length === 0, `${when}: CSP violations: ${JSON.stringify(csp, null, 1)}`);
    check(problems.length === 0, `${when}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  };
  let loaded = false;
  let beforeTotal = 0;

  await group('admin dashboard with JavaScript', async () => {
    await step('admin logs in via /dev/login', async () => {
      const res = await page.goto('/dev/login');
      check(res && res.ok(), `/dev/login ended with ${res && res.status()}`);
      check(new URL(page.url()).pathname === '/admin/', `/dev/login landed on ${page.url()}, expected /admin/`);
      const cookies = await ctx.cookies(origin);
      check(cookies.some((c) => c.name === 'starpunk_session'), 'no starpunk_session cookie after /dev/login');
    });

    await step('dashboard draws its three charts', async () => {
      const res = await page.goto('/admin/metrics-dashboard', { waitUntil: 'load' });
      check(res && res.status() === 200, `dashboard answered ${res && res.status()}`);
      check(new URL(page.url()).pathname === '/admin/metrics-dashboard', `dashboard redirected to ${page.url()}`);
      // dashboard.js draws on DOMContentLoaded (the deferred scripts have run by then).
      await page.waitForFunction(
        (ids) => !document.getElementById('metrics-charts').hidden &&
          window.Chart && ids.every((id) => window.Chart.getChart(document.getElementById(id))),
        CHART_IDS, { timeout: 10_000 }).catch(async () => {
        throw new TestFailure('charts were not created within 10 s: ' +
          JSON.stringify(await page.evaluate(() => ({
            hidden: document.getElementById('metrics-charts')?.hidden,
            chartJs: typeof window.Chart, htmx: typeof window.htmx,
          }))) + (problems.length ? `\n  ${problems.join('\n  ')}` : ''));
      });
      const drawn = await assertChartsDrawn(page, 'after load');
      log(`     painted pixels: ${drawn.map((c) => `${c.id} ${c.painted}/${c.total}`).join(', ')}`);
      for (const p of ['/static/vendor/htmx.min.js', '/static/vendor/chart.umd.min.js', '/static/dashboard.js']) {
        check(rec.staticOk.has(p), `${p} was not loaded`);
      }
      const selfOnly = await page.evaluate(() => window.htmx && window.htmx.config.selfRequestsOnly);
      check(selfOnly === true, 'htmx is not loaded with selfRequestsOnly=true');
      loaded = true;
    });

    await step('no console error, page error, CSP violation or failed /static request', () => noErrors('after load'));
  });

  // ---- 3: an htmx refresh shows new traffic, in place
  if (loaded) await group('htmx refresh', async () => {
    await step('htmx refresh shows the new traffic without a reload', async () => {
      const text = await page.locator('#metrics-requests-total').textContent();
      check(numeric(text), `#metrics-requests-total is not a number: ${JSON.stringify(text)}`);
      beforeTotal = Number(text);
      const navigationsBefore = rec.navigations;
      // Marks this document (gone on a reload) and the chart's current data object
      // (replaced by dashboard.js on a redraw).
      await page.evaluate(() => {
        window.__sameDocument = true;
        window.__loadDatasets = window.Chart.getChart(document.getElementById('chart-latency')).data.datasets;
      });

      const paths = [];
      for (let i = 0; i < 10; i++) paths.push('/', '/feed.xml');
      for (const p of paths) {
        const r = await fetch(origin + p, { redirect: 'manual' });
        await r.arrayBuffer();
        check(r.status === 200, `traffic: GET ${p} answered ${r.status}`);
      }

      const started = Date.now();
      await page.waitForFunction(
        (before) => Number(document.getElementById('metrics-requests-total')?.textContent) > before,
        beforeTotal, { timeout: REFRESH_WAIT_MS, polling: 200 }).catch(async () => {
        throw new TestFailure(`#metrics-requests-total stayed at ` +
          `${await page.locator('#metrics-requests-total').textContent()} (was ${beforeTotal}) for ` +
          `${REFRESH_WAIT_MS / 1000} s; fragment requests seen: ${JSON.stringify(rec.figureRequests)}` +
          (problems.length ? `\n  ${problems.join('\n  ')}` : ''));
      });
      const after = Number(await page.locator('#metrics-requests-total').textContent());
      log(`     requests total ${beforeTotal} -> ${after} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      check(after >= beforeTotal + paths.length,
        `#metrics-requests-total went from ${beforeTotal} to ${after}; expected at least +${paths.length}`);
      check(rec.navigations === navigationsBefore && await page.evaluate(() => window.__sameDocument === true),
        'the page was reloaded or navigated instead of refreshed in place');
      check(rec.figureRequests.length >= 1 && rec.figureRequests.every((s) => s === 200),
        `fragment requests answered ${JSON.stringify(rec.figureRequests)}`);
    });

    await step('charts are still drawn after the swap', async () => {
      const rows = await page.locator('#metrics-types tr[data-type]').count();
      check(rows === 3, `after the swap #metrics-types has ${rows} rows, expected 3`);
      await assertChartsDrawn(page, 'after the htmx swap');
    });

    await step('the swapped-in figures keep their chart data block', async () => {
      const block = await page.evaluate(() => {
        const el = document.getElementById('metrics-chart-data');
        return el ? el.getAttribute('data-chart') : null;
      });
      check(block !== null, 'after the htmx swap #metrics-chart-data[data-chart] is gone from the page, so ' +
        'dashboard.js cannot redraw; the charts would stay frozen at page-load figures');
      let parsed = null;
      try { parsed = JSON.parse(block); } catch { /* reported below */ }
      check(parsed && parsed.metrics && parsed.pool,
        `after the swap #metrics-chart-data is not the expected JSON: ${block.slice(0, 200)}`);
    });

    await step('charts are redrawn from the refreshed data', async () => {
      // dashboard.js redraws on htmx:afterSettle, giving each chart a new data
      // object; wait until the latency and pool charts hold the new block's values.
      // (Installed through page.evaluate: the page's CSP forbids eval, and a
      // blocked eval would itself be a CSP violation.)
      await page.evaluate(() => { window.__redrawState = (types) => {
        const data = JSON.parse(document.getElementById('metrics-chart-data').getAttribute('data-chart'));
        const latency = window.Chart.getChart(document.getElementById('chart-latency')).data.datasets;
        const pool = window.Chart.getChart(document.getElementById('chart-pool')).data.datasets;
        const want = ['p50_ms', 'p95_ms', 'p99_ms'].map((k) => types.map((t) => (data.metrics[t] ? data.metrics[t][k] : 0)));
        const p = data.pool || {};
        return {
          swaps: window.__htmxSwaps,
          replaced: latency !== window.__loadDatasets,
          latency: JSON.stringify(latency.map((d) => d.data)) === JSON.stringify(want),
          pool: JSON.stringify(pool[0].data) === JSON.stringify([p.in_use || 0, p.idle || 0, p.size || 0]),
        };
      }; });
      await page.waitForFunction(
        (types) => Object.values(window.__redrawState(types)).every(Boolean),
        TYPES, { timeout: 5_000 }).catch(async () => {
        throw new TestFailure('after the swap the charts do not show the new data block: ' +
          JSON.stringify(await page.evaluate((types) => window.__redrawState(types), TYPES)));
      });
      await assertChartsDrawn(page, 'after the redraw');
    });
  });

  if (loaded) await group('after the refresh', () =>
    step('still no errors or CSP violations after the refresh', () => noErrors('after the refresh')));
  await ctx.close();

  // ---- 4: without JavaScript the server-rendered figures are all there
  await group('without JavaScript', async () => {
    const ctxNoJs = await browser.newContext({ baseURL: origin, javaScriptEnabled: false });
    try {
      const p = await ctxNoJs.newPage();
      const noJsProblems = [];
      watch(p, origin, noJsProblems);

      await step('without JavaScript the server-rendered figures are complete', async () => {
        const login = await p.goto('/dev/login');
        check(login && login.ok() && new URL(p.url()).pathname === '/admin/', `no-JS /dev/login ended at ${p.url()}`);
        const res = await p.goto('/admin/metrics-dashboard');
        check(res && res.status() === 200 && new URL(p.url()).pathname === '/admin/metrics-dashboard',
          `no-JS dashboard: ${res && res.status()} at ${p.url()}`);
        for (const t of TYPES) {
          const row = p.locator(`#metrics-types tr[data-type="${t}"]`);
          check(await row.count() === 1, `no-JS: no #metrics-types row for ${t}`);
          for (const cls of ['count', 'p50', 'p95', 'p99']) {
            const v = await row.locator(`td.${cls}`).textContent();
            check(numeric(v), `no-JS: ${t} ${cls} is not a number: ${JSON.stringify(v)}`);
          }
        }
        const http = Number(await p.locator('#metrics-types tr[data-type="http"] td.count').textContent());
        check(http > 0, `no-JS: the http count is ${http}`);
        const total = await p.locator('#metrics-requests-total').textContent();
        check(numeric(total) && Number(total) > beforeTotal,
          `no-JS: #metrics-requests-total is ${JSON.stringify(total)} (was ${beforeTotal} before the traffic)`);
        check(await p.locator('#metrics-requests-total').isVisible(), 'no-JS: #metrics-requests-total is not visible');
        const rss = ((await p.locator('#metrics-rss').textContent()) ?? '').trim();
        check(/\d/.test(rss) && await p.locator('#metrics-rss').isVisible(), `no-JS: #metrics-rss shows ${JSON.stringify(rss)}`);
        const ts = await p.locator('#metrics-timestamp').getAttribute('datetime');
        check(ts && !Number.isNaN(Date.parse(ts)), `no-JS: #metrics-timestamp datetime is ${JSON.stringify(ts)}`);
        check(await p.locator('#metrics-slow, #metrics-figures p.empty').count() >= 1,
          'no-JS: neither a slow-operations table nor its empty message');
        check(noJsProblems.length === 0, `no-JS: ${noJsProblems.join('; ')}`);
      });

      await step('without JavaScript no empty chart frames are shown', async () => {
        // #metrics-charts keeps its hidden attribute until dashboard.js draws.
        const charts = p.locator('#metrics-charts');
        check(await charts.getAttribute('hidden') !== null, 'no-JS: #metrics-charts lost its hidden attribute');
        if (await charts.isVisible()) {
          const display = await charts.evaluate((el) => getComputedStyle(el).display);
          throw new TestFailure(`no-JS: #metrics-charts has the hidden attribute but is displayed ` +
            `(computed display: ${display}): an author rule overrides [hidden], so three empty chart ` +
            `frames (captions and blank canvases) appear above the figures`);
        }
      });
    } finally {
      await ctxNoJs.close();
    }
  });

  // ---- 5: anonymous visitors are sent to the login page
  await group('anonymous', async () => {
    const ctxAnon = await browser.newContext({ baseURL: origin });
    try {
      await step('anonymous visitor is redirected to /auth/login', async () => {
        const raw = await ctxAnon.request.get('/admin/metrics-dashboard', { maxRedirects: 0 });
        const loc = raw.headers()['location'] || '';
        check(raw.status() === 302 || raw.status() === 303,
          `anonymous GET /admin/metrics-dashboard answered ${raw.status()}, expected a redirect`);
        check(new URL(loc, origin).pathname === '/auth/login', `anonymous redirect goes to ${JSON.stringify(loc)}`);
        const p = await ctxAnon.newPage();
        const res = await p.goto('/admin/metrics-dashboard');
        check(new URL(p.url()).pathname === '/auth/login', `anonymous browser ended at ${p.url()}`);
        check(res && res.status() === 200, `/auth/login answered ${res && res.status()}`);
        check(await p.locator('#metrics-figures').count() === 0, 'the anonymous visitor sees the metrics');
        // Nor may the fragment htmx polls leak.
        const frag = await ctxAnon.request.get('/admin/metrics-dashboard/figures', { maxRedirects: 0 });
        check(frag.status() !== 200 && !(await frag.text()).includes('metrics-requests-total'),
          `anonymous GET of the figures fragment answered ${frag.status()}`);
      });
    } finally {
      await ctxAnon.close();
    }
  });
}

await runBrowserTest({
  name: 'dashboard browser test',
  tmpPrefix: 'starpunk-browser-',
  timeoutMs: OVERALL_TIMEOUT_MS,
  prepare: async () => ({ env: { DEV_ADMIN_ME: 'http://127.0.0.1:8000/', ADMIN_ME: 'http://127.0.0.1:8000/' } }),
  run: (server, browser) => run(server, browser),
});
