// Hostile input in a real browser (issue 17): payloads that try to run script
// — script tags, event-handler attributes, javascript: URLs, attribute and tag
// breakers, entity tricks, `]]>`, mXSS shapes, very long and unusual Unicode —
// go in through every way text enters the site:
//   * the admin note form, filled and submitted in Chromium as the dev-login
//     admin (content, slug, tags; its CSRF token), and as raw bytes with the
//     same session (NUL, invalid UTF-8, a CESU-encoded lone surrogate: a 400
//     naming the problem; C1 controls, BOM, noncharacters, bidi controls: stored);
//   * Micropub with a bearer token (a mock token endpoint on loopback vouches
//     for it): form-encoded text content, JSON `{"html": …}` content, JSON text
//     with `\u0000`-style escapes (lone-surrogate escapes: a 400), `name`,
//     `category`, `mp-slug`;
//   * the search box (typed into the layout's search field and submitted).
// Then every page that shows them — home, permalinks, tag pages, search
// results, the admin list and edit forms, the form re-shown after a refused
// slug, and the feeds as far as Chromium displays them — is opened in headless
// Chromium (Debian's /usr/bin/chromium via playwright-core, never downloaded)
// in two contexts at once: one with the server's Content-Security-Policy as
// sent, one with that header stripped from every response (page.route), so
// escaping and the sanitizer alone are shown to hold. On every page:
//   0 dialogs, 0 calls of the payloads' marker (pwn(), an exposed binding, and
//   window.__pwned), 0 page errors, 0 CSP violations (with the CSP on, a
//   violation means injected markup reached the DOM and only the CSP stopped
//   it), and no live hostile markup in the DOM: no on* attribute, no
//   javascript: URL, no script other than /static files, no iframe, object,
//   embed, base or meta refresh;
// and the page shows the injected text (a canary, or the search query), so a
// page that lost the payloads cannot pass. A control page with a live payload
// proves the detectors fire (and that the CSP switch works).
// Exit status 0 = pass; non-zero with a message on stderr = failure.
//
// Run: node tests/browser/hostile_input.test.mjs
import http from 'node:http';

import { TestFailure, check, log, step, group, runBrowserTest, summary } from './harness.mjs';

const OVERALL_TIMEOUT_MS = 150_000;  // watchdog; a normal run takes well under a minute

// ---------------------------------------------------------------- payloads

// Each payload, if it ever runs, calls pwn(n) (an exposed binding), alert(n)
// (a dialog) or sets window.__pwned. Text-only channels (slug, tags, search)
// get them as they are; the content channels get all of them at once.
const LONG = 'A'.repeat(20_000);
const PAYLOADS = [
  '<script>pwn(1)</script>',
  '<img src=x onerror=pwn(2)>',
  '<svg onload=pwn(3)>',
  '"><script>pwn(4)</script>',
  "'><img src=x onerror=alert(5)>",
  '"onmouseover="pwn(6)" autofocus onfocus="pwn(6)" x="',
  "' autofocus onfocus='pwn(7)' x='",
  '[click](javascript:pwn(8))',
  '<a href="javascript:pwn(9)">link</a>',
  '<a href="jav&#x09;ascript:pwn(10)">tab</a> <a href="&#106;avascript:pwn(10)">ent</a> <a href="javascript&colon;pwn(10)">colon</a>',
  '<iframe src="javascript:pwn(11)"></iframe><object data="javascript:pwn(11)"></object><embed src="javascript:pwn(11)">',
  '</textarea><script>pwn(12)</script>',
  '</title><script>pwn(13)</script>',
  ']]><script>pwn(14)</script><![CDATA[',
  '--><script>pwn(15)</script><!--',
  '&lt;script&gt;pwn(16)&lt;/script&gt; &#60;img src=x onerror=pwn(16)&#62;',
  '<details open ontoggle=pwn(17)>x</details>',
  '<math><mtext><table><mglyph><style><img src=x onerror=pwn(18)>',
  '<noscript><p title="</noscript><img src=x onerror=pwn(19)>">',
  '<svg><a xlink:href="javascript:pwn(20)"><text x="1" y="1">svg link</text></a></svg>',
  '<base href="javascript:pwn(21)//">',
  '<meta http-equiv="refresh" content="0;url=javascript:pwn(22)">',
  '<form action="javascript:pwn(23)"><button formaction="javascript:pwn(23)">go</button></form>',
  '<style>*{background:url("javascript:pwn(24)")}</style><div style="background:url(javascript:pwn(24))">s</div>',
  '{{pwn}} {{{pwn}}} ${pwn(25)} <%= pwn(25) %>',
  '<img src=x onerror="window.__pwned=1">',
  '<input autofocus onfocus=alert(27)>',
  '\u202E<script>pwn(28)</script>\u202Dtxet',
  '\uFF1Cscript\uFF1Epwn(29)\uFF1C/script\uFF1E',
  'java\u200Dscript:pwn(30) <a href="java\u200Dscript:pwn(30)">zwj</a>',
  '<scr<script>ipt>pwn(31)</scr</script>ipt>',
  '<<img src=x onerror=pwn(32)//<',
  '<select><template><style></select><img src=x onerror=pwn(33)></template></select>',
  LONG + '<script>pwn(34)</script>',
];
const MARKERS = PAYLOADS.length;

// The whole list as one note body, each payload in its own block.
function allPayloads(canary) {
  return `${canary}\n\n` + PAYLOADS.join('\n\n') + `\n\n${canary} end`;
}

// ---------------------------------------------------------------- the site's side

// The token endpoint Micropub asks (TOKEN_ENDPOINT): vouches for one token.
async function startTokenEndpoint(token) {
  const server = http.createServer((req, res) => {
    const ok = req.url === '/token' && req.headers.authorization === `Bearer ${token}`;
    res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(ok ? { me: server.me, client_id: 'https://client.example/', scope: 'create update media' }
      : { error: 'invalid_token' }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.me = `http://127.0.0.1:${server.address().port}/`;
  server.endpoint = `http://127.0.0.1:${server.address().port}/token`;
  return server;
}

async function micropub(origin, token, body, contentType) {
  const res = await fetch(origin + '/micropub', {
    method: 'POST', redirect: 'manual', body,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

// ---------------------------------------------------------------- the browser's side

// Runs in every page before its own scripts: records CSP violations.
function initProbe() {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} ${e.sample || ''}`.trim());
  });
}

// In the page: live hostile markup anywhere in the document.
function hostileMarkup(origin) {
  const found = [];
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'poster', 'background', 'srcdoc'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on')) found.push(`<${tag} ${name}=${JSON.stringify(a.value.slice(0, 60))}>`);
      if (urlAttrs.includes(name)) {
        const v = a.value.replace(/[\u0000-\u0020\u007f-\u009f\u200b-\u200f]/g, '').toLowerCase();
        if (v.startsWith('javascript:') || v.startsWith('vbscript:') || (v.startsWith('data:') && tag !== 'img')) {
          found.push(`<${tag} ${name}=${JSON.stringify(a.value.slice(0, 60))}>`);
        }
      }
      if (name === 'style' && /url\s*\(|expression/i.test(a.value)) found.push(`<${tag} style=${JSON.stringify(a.value.slice(0, 60))}>`);
    }
    if (tag === 'script') {
      const src = el.getAttribute('src');
      if (!src || !new URL(src, location.href).href.startsWith(origin + '/static/')) {
        found.push(`<script${src ? ` src=${src}` : ''}>${el.textContent.slice(0, 60)}`);
      }
    }
    if (['iframe', 'frame', 'object', 'embed', 'base', 'applet'].includes(tag)) found.push(`<${tag}>`);
    if (tag === 'meta' && (el.getAttribute('http-equiv') || '').toLowerCase() === 'refresh') found.push('<meta refresh>');
  }
  return found;
}

class Browser {
  constructor(browser, origin, stripCsp) {
    this.browser = browser;
    this.origin = origin;
    this.stripCsp = stripCsp;
    this.mode = stripCsp ? 'CSP stripped' : 'CSP as sent';
    this.hits = [];       // pwn(n) calls: {url, n}
    this.dialogs = [];    // {url, message}
    this.errors = [];     // page errors
    this.cspSeen = 0;     // documents that arrived with a CSP header
    this.cspUrls = [];
    this.documents = 0;
    this.control = null;  // the control page's body, when set
  }

  async open() {
    this.ctx = await this.browser.newContext({ baseURL: this.origin });
    await this.ctx.exposeBinding('pwn', (source, n) => { this.hits.push({ url: source.frame.url(), n }); });
    await this.ctx.addInitScript(initProbe);
    // Interception costs time: as sent, only the control page is answered here.
    await this.ctx.route(this.stripCsp ? '**/*' : `${this.origin}/__control`, (route) => this.#serve(route));
    this.page = await this.ctx.newPage();
    this.page.setDefaultTimeout(10_000);
    this.page.on('dialog', (d) => { this.dialogs.push({ url: this.page.url(), message: d.message() }); d.dismiss().catch(() => {}); });
    this.page.on('pageerror', (e) => this.errors.push(`${this.page.url()}: ${e.message}`));
    this.page.on('response', (res) => {
      if (res.request().resourceType() !== 'document') return;
      this.documents++;
      if (res.headers()['content-security-policy']) { this.cspSeen++; this.cspUrls.push(`${res.status()} ${res.url()}`); }
    });
  }

  // Every response from the server passes here: as sent, or without its CSP.
  // The control page is answered from the test, with the server's CSP in the
  // "as sent" run (copied from a real response) and without it otherwise.
  async #serve(route) {
    const url = new URL(route.request().url());
    if (url.origin !== this.origin) return route.abort();
    if (url.pathname === '/__control') {
      const headers = { 'content-type': 'text/html; charset=utf-8' };
      if (!this.stripCsp) headers['content-security-policy'] = this.serverCsp;
      return route.fulfill({ status: 200, headers, body: this.control });
    }
    if (!this.stripCsp) return route.continue();
    const res = await route.fetch({ maxRedirects: 0 });
    const headers = res.headers();
    delete headers['content-security-policy'];
    return route.fulfill({ response: res, headers });
  }

  async close() { await this.ctx.close(); }

  // Loads `url` (or runs `navigate`), lets load-time handlers run, and returns
  // what the page showed of the payloads plus every problem found.
  async visit(what, navigate) {
    const before = { hits: this.hits.length, dialogs: this.dialogs.length, errors: this.errors.length };
    const res = typeof navigate === 'string' ? await this.page.goto(navigate, { waitUntil: 'load' }) : await navigate(this.page);
    // Autofocus and image errors settle within a frame or two after load.
    await this.page.waitForTimeout(30);
    const state = await this.page.evaluate(() => ({
      pwned: window.__pwned !== undefined,
      csp: window.__csp || [],
      html: document.documentElement.outerHTML,
      url: location.href,
    })).catch((e) => ({ evalError: e.message }));
    if (!state.evalError) state.hostile = await this.page.evaluate(hostileMarkup, this.origin);
    const problems = [];
    if (state.evalError) problems.push(`cannot inspect the page: ${state.evalError}`);
    const hits = this.hits.slice(before.hits);
    const dialogs = this.dialogs.slice(before.dialogs);
    const errors = this.errors.slice(before.errors);
    if (hits.length) problems.push(`payload ran: pwn(${hits.map((h) => h.n).join(', ')})`);
    if (dialogs.length) problems.push(`dialog(s): ${dialogs.map((d) => JSON.stringify(d.message)).join(', ')}`);
    if (errors.length) problems.push(`page error(s): ${errors.join(' | ')}`);
    if (state.pwned) problems.push('window.__pwned was set');
    if (state.csp && state.csp.length) problems.push(`CSP violation(s) (injected markup reached the DOM): ${state.csp.join(' | ')}`);
    if (state.hostile && state.hostile.length) problems.push(`live hostile markup: ${state.hostile.slice(0, 8).join(' ')}`);
    return { res, html: state.html || '', url: state.url, problems: problems.map((p) => `${this.mode}, ${what}: ${p}`) };
  }
}

// ---------------------------------------------------------------- the test

const CANARIES = ['zqcanary-form', 'zqcanary-raw', 'zqcanary-mpform', 'zqcanary-mphtml', 'zqcanary-mpjson'];
// The search box gets the payloads a few at a time (under the 500-byte query
// limit), and one query far over it, which is refused with a page saying so.
const SEARCHES = (() => {
  const out = [];
  let cur = '';
  for (const p of PAYLOADS.slice(0, -1)) {
    if (cur && cur.length + p.length + 1 > 400) { out.push(cur); cur = ''; }
    cur = cur ? `${cur} ${p}` : p;
  }
  out.push(cur, LONG.slice(0, 2000) + '<script>pwn(34)</script>');
  return out;
})();
const CONTROL = '<!doctype html><title>control</title><p>control</p>' +
  '<img src=x onerror=pwn(0)><script>window.__pwned = 1</script>';

// Fills the admin note form in the page and submits it (the browser's own
// validation is off, as an attacker's would be), returning the response.
async function submitNoteForm(page, fields) {
  await page.goto('/admin/new');
  await page.evaluate((f) => {
    const form = document.querySelector('form textarea[name=content]').form;
    form.noValidate = true;
    form.elements.content.value = f.content;
    form.elements.slug.value = f.slug;
    form.elements.tags.value = f.tags;
    form.elements.published.checked = true;
  }, fields);
  const [res] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.locator('form:has(textarea[name=content]) [type=submit]').click(),
  ]);
  return res;
}

async function devLogin(b) {
  const res = await b.page.goto('/dev/login');
  check(res && res.ok() && new URL(b.page.url()).pathname === '/admin/', `/dev/login ended at ${b.page.url()}`);
}

// Stores the payloads through every channel (once, as the admin of `b`).
async function inject(b, origin, token) {
  const results = {};
  const form = { content: allPayloads('zqcanary-form'), slug: PAYLOADS[3], tags: PAYLOADS.slice(0, 4).join(', ') };
  const created = await submitNoteForm(b.page, { ...form, slug: '' });
  check(new URL(b.page.url()).searchParams.get('notice') === 'created',
    `the admin form did not create the note: ${created && created.status()} at ${b.page.url()}`);
  results.form = 'created';

  // Raw bytes through the same form, with the session's cookie and CSRF token
  // (as the header, so the gate lets the body through to the form's parser):
  // NUL, invalid UTF-8, a CESU-encoded lone surrogate and overlong '<' are
  // refused with a 400 that says why; valid but unusual characters (C1
  // controls, BOM, noncharacters, U+10FFFF, line separators, bidi overrides,
  // combining marks, zero-width joiners) are stored and shown.
  const csrf = await b.page.locator('input[name=csrf_token]').first().inputValue();
  const rawPost = async (body) => {
    const res = await b.ctx.request.fetch('/admin/new', {
      method: 'POST', maxRedirects: 0, data: Buffer.from(body, 'latin1'),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, 'X-CSRF-Token': csrf },
    });
    return { status: res.status(), text: await res.text() };
  };
  for (const bad of ['%00%3Cscript%3Epwn(40)%3C%2Fscript%3E', '%ED%A0%80%3Cscript%3Epwn(41)%3C%2Fscript%3E',
    '%C0%BCscript%C0%BEpwn(41)%C0%BC%2Fscript%C0%BE', '%FF%FE%3Cimg%20src%3Dx%20onerror%3Dpwn(42)%3E', '%F4%90%80%80']) {
    const r = await rawPost(`published=1&content=zqcanary-bad${bad}`);
    check(r.status === 400 && /UTF-8|NUL/.test(r.text), `raw bytes ${bad}: answered ${r.status}, not a 400 naming the problem`);
  }
  const odd = await rawPost('published=1&tags=' + encodeURIComponent('\u202Eevil\u202C, \uFEFFbom, ok\u0301') +
    '&content=zqcanary-raw' + encodeURIComponent(' \u0085\u009b<script>pwn(43)</script>\uFEFF\uFFFE\uFFFF\u{10FFFF}' +
    '\u2028\u2029\u202E<img src=x onerror=pwn(44)>\u202C a\u0301\u0327 java\u200Dscript:pwn(45) \u061C\u2066x\u2069'));
  results.raw = odd.status;
  check(odd.status === 303, `unusual Unicode through the form answered ${odd.status}: ${odd.text.slice(0, 300)}`);

  // Micropub: form-encoded text content with name, categories and a hostile mp-slug.
  const mpForm = new URLSearchParams({ h: 'entry', content: allPayloads('zqcanary-mpform'),
    name: PAYLOADS[0] + PAYLOADS[4], 'mp-slug': PAYLOADS[1] });
  for (const p of PAYLOADS.slice(8, 11)) mpForm.append('category[]', p);
  results.mpForm = await micropub(origin, token, mpForm.toString(), 'application/x-www-form-urlencoded');
  // JSON with {"html": …} content.
  results.mpHtml = await micropub(origin, token, JSON.stringify({ type: ['h-entry'], properties: {
    name: [PAYLOADS[12]], content: [{ html: allPayloads('zqcanary-mphtml') }],
    category: PAYLOADS.slice(14, 17), 'mp-slug': [PAYLOADS[13]] } }), 'application/json');
  // JSON text content with escapes: lone surrogates make the body invalid
  // JSON (a 400 that says so, nothing stored); NUL and other controls, line
  // separators and a surrogate pair are taken (or refused with a 400).
  const jsonWith = (content, category) => JSON.stringify({ type: ['h-entry'], properties: {
    content: [content], category: [category], 'mp-slug': ['ESC-slug'] } })
    .replaceAll('LONE', '\\ud800x\\udfff\\udc00\\ud83d').replaceAll('CTRL', '\\u0000\\u0001\\u001b\\u2028\\u2029\\ud83d\\ude00');
  const lone = await micropub(origin, token, jsonWith('zqcanary-lone LONE <script>pwn(46)</script>', 'LONE'), 'application/json');
  check(lone.status === 400 && /JSON/.test(lone.text), `JSON with lone surrogates: ${lone.status} ${lone.text.slice(0, 200)}`);
  for (const variant of ['CTRL', '']) {
    results.mpJson = await micropub(origin, token, jsonWith(
      `zqcanary-mpjson ${variant} <img src=x onerror=pwn(47)> ]]> \u202E<script>pwn(48)</script>`,
      `${variant}<svg onload=pwn(49)>`), 'application/json');
    if (results.mpJson.status !== 400) break;
    log(`     JSON content with ${variant || 'no'} control escapes refused: ${results.mpJson.text.slice(0, 160)}`);
  }
  for (const k of ['mpForm', 'mpHtml', 'mpJson']) {
    const r = results[k];
    check(r.status === 201 || r.status === 202, `Micropub ${k}: ${r.status} ${r.text.slice(0, 300)}`);
  }
  return results;
}

// The pages that show what was stored, found by following the site's own links.
async function collectPages(b) {
  const pages = new Set(['/', '/admin/', '/feed.xml', '/feed.atom', '/feed.json']);
  const links = async (url, selector) => {
    await b.page.goto(url);
    return b.page.$$eval(selector, (as) => as.map((a) => a.getAttribute('href')));
  };
  for (const href of await links('/admin/', 'a[href*="/admin/edit/"]')) pages.add(new URL(href, b.origin).pathname);
  for (const href of await links('/', 'a')) {
    const u = new URL(href, b.origin);
    if (u.origin === b.origin && (u.pathname.startsWith('/note/') || u.pathname.startsWith('/tag/'))) pages.add(u.pathname + u.search);
  }
  for (const p of [...pages].filter((p) => p.startsWith('/note/'))) {
    for (const href of await links(p, 'a[rel~=tag]')) {
      const u = new URL(href, b.origin);
      if (u.origin === b.origin) pages.add(u.pathname + u.search);
    }
  }
  return [...pages];
}

async function crawl(b, pages) {
  let shown = 0;
  const notViewable = [];
  for (const url of pages) {
    let v;
    try {
      v = await b.visit(url, url);
    } catch (e) {
      // A feed type Chromium does not display (it downloads it) shows nothing.
      if (/download/i.test(e.message) && url.startsWith('/feed')) { notViewable.push(url); continue; }
      throw e;
    }
    b.problems.push(...v.problems);
    check(v.res && v.res.status() === 200, `${b.mode}, ${url} answered ${v.res && v.res.status()}`);
    const canaries = CANARIES.filter((c) => v.html.includes(c));
    if (!url.startsWith('/tag/') && canaries.length === 0) b.problems.push(`${b.mode}, ${url} shows none of the injected notes`);
    shown++;
  }
  await b.page.goto('/');
  for (const q of SEARCHES) {
    // Typed into the layout's search box of the page at hand (the previous results).
    const v = await b.visit(`search box: ${JSON.stringify(q.slice(0, 40))}`, async (page) => {
      await page.fill('#site-search', q);
      const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.press('#site-search', 'Enter')]);
      return res;
    });
    b.problems.push(...v.problems);
    check(new URL(v.url).pathname === '/search', `${b.mode}: the search box led to ${v.url}`);
    if (q.length > 1000 && v.res && v.res.status() === 400) {  // too long: refused with a page saying so
      check(v.html.includes('too long'), `${b.mode}: the refused long search does not say why`);
      shown++;
      continue;
    }
    const value = await b.page.evaluate(() => (document.getElementById('search-q') || {}).value ?? '');
    if (value.replace(/\s+/g, ' ').trim().slice(0, 20) !== q.replace(/\s+/g, ' ').trim().slice(0, 20)) {
      b.problems.push(`${b.mode}: the search page does not show the query ${JSON.stringify(q.slice(0, 40))} (it shows ${JSON.stringify(value.slice(0, 40))})`);
    }
    shown++;
  }
  return { shown, notViewable };
}

// A browser context per mode, logged in and with its control page checked.
async function prepare(browser, origin, stripCsp) {
  const b = new Browser(browser, origin, stripCsp);
  b.problems = [];
  b.control = CONTROL;
  await b.open();
  await step(`${b.mode}: admin logs in via /dev/login`, async () => {
    await devLogin(b);
    b.serverCsp = (await fetch(origin + '/')).headers.get('content-security-policy');
    check(b.serverCsp && b.serverCsp.includes("script-src 'self'"), `the server's CSP is ${b.serverCsp}`);
  });
  await step(`${b.mode}: the control page's live payload is caught${stripCsp ? ' (it runs)' : ' (the CSP blocks it)'}`, async () => {
    const v = await b.visit('control', '/__control');
    if (stripCsp) {
      check(v.problems.some((p) => p.includes('payload ran: pwn(0)')) && v.problems.some((p) => p.includes('__pwned')),
        `the control payload did not run without the CSP: ${v.problems.join('; ') || 'no problem found'}`);
    } else {
      check(v.problems.some((p) => p.includes('CSP violation')) && !v.problems.some((p) => p.includes('payload ran')),
        `with the CSP the control payload was not blocked and reported: ${v.problems.join('; ') || 'no problem found'}`);
    }
    check(v.problems.some((p) => p.includes('live hostile markup')), 'the DOM scan missed the control page\'s markup');
  });
  return b;
}

// Everything that shows the payloads, in one mode.
async function check_mode(b, pages) {
  await step(`${b.mode}: the note form re-shown after a refused slug`, async () => {
    const v = await b.visit('note form re-shown after a refused slug', (page) =>
      submitNoteForm(page, { content: allPayloads('zqcanary-form'), slug: PAYLOADS[3], tags: PAYLOADS.slice(0, 4).join(', ') }));
    check(v.res && v.res.status() === 400, `hostile slug answered ${v.res && v.res.status()}`);
    check(v.html.includes('zqcanary-form'), 'the refused form does not show the content again');
    b.problems.push(...v.problems);
  });
  // A redirect's target is not intercepted (page.route): count the crawl's own documents.
  b.cspSeen = 0;
  b.cspUrls = [];
  b.documents = 0;
  await step(`${b.mode}: every page and search opened; 0 dialogs, 0 payload runs, 0 page errors, 0 CSP violations, no live hostile markup`, async () => {
    const before = { hits: b.hits.length, dialogs: b.dialogs.length, errors: b.errors.length };
    const { shown, notViewable } = await crawl(b, pages);
    b.counts = { mode: b.mode, opened: shown, documents: b.documents, dialogs: b.dialogs.length - before.dialogs,
      runs: b.hits.length - before.hits, pageErrors: b.errors.length - before.errors, problems: b.problems.length };
    log(`     ${b.mode}: ${shown} pages checked${notViewable.length ? `; not displayed by Chromium: ${notViewable.join(', ')}` : ''}`);
    if (b.stripCsp) check(b.cspSeen === 0, `${b.cspSeen} documents still carried a CSP header: ${b.cspUrls.join(', ')}`);
    else check(b.cspSeen >= shown, `only ${b.cspSeen} of ${shown} documents carried the server's CSP`);
    check(b.problems.length === 0, `${b.problems.length} problem(s):\n  ${b.problems.slice(0, 30).join('\n  ')}`);
  });
}

async function run(server, browser, token) {
  const origin = server.origin;
  const contexts = [];
  try {
    let pages = null;
    await group('setup', async () => {
      const sent = await prepare(browser, origin, false);
      contexts.push(sent);
      await step('payloads stored through the admin form (browser and raw bytes), Micropub (form, HTML, JSON escapes)', async () => {
        const r = await inject(sent, origin, token);
        log(`     admin form: ${r.form}; raw bytes: ${r.raw}; Micropub: ` +
          ['mpForm', 'mpHtml', 'mpJson'].map((k) => `${k} ${r[k].status} ${r[k].location || ''}`).join(', '));
      });
      check(sent.problems.length === 0, `while storing: ${sent.problems.join('\n  ')}`);
      await step('pages that show them found by following links', async () => {
        pages = await collectPages(sent);
        const notes = pages.filter((p) => p.startsWith('/note/')).length;
        const tags = pages.filter((p) => p.startsWith('/tag/')).length;
        const edits = pages.filter((p) => p.startsWith('/admin/edit/')).length;
        log(`     ${pages.length} pages: ${notes} permalinks, ${tags} tag pages, ${edits} edit forms, home, admin, feeds; ` +
          `${SEARCHES.length} searches`);
        check(notes >= 5 && edits >= 5 && tags >= 5, 'fewer pages than notes and tags stored');
      });
      contexts.push(await prepare(browser, origin, true));
    });
    if (!pages || contexts.length < 2) return;
    // Both modes at once, each in its own context and session.
    await Promise.all(contexts.map((b) => group(b.mode, () => check_mode(b, pages))));
    // The payload runs, dialogs and problems each mode found (every one is
    // also a failure above); CSP violations and live markup are problems.
    summary({ test: 'hostile_input', payloads: MARKERS, pages: pages.length, searches: SEARCHES.length,
      modes: contexts.map((b) => b.counts || { mode: b.mode, incomplete: true }) });
  } finally {
    for (const b of contexts) await b.close().catch(() => {});
  }
}

await runBrowserTest({
  name: 'hostile input browser test',
  tmpPrefix: 'starpunk-hostile-',
  timeoutMs: OVERALL_TIMEOUT_MS,
  prepare: async () => {
    const token = 'hostile-' + Math.random().toString(36).slice(2);
    const tokens = await startTokenEndpoint(token);
    return {
      env: { ADMIN_ME: tokens.me, DEV_ADMIN_ME: tokens.me, TOKEN_ENDPOINT: tokens.endpoint, ALLOW_HTTP_ENDPOINTS: 'true' },
      context: token,
      cleanup: () => tokens.close(),
    };
  },
  describe: () => `; ${MARKERS} payloads`,
  run: (server, browser, token) => run(server, browser, token),
});
