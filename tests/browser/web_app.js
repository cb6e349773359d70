// Drives the pedigree web app in headless Chromium (run.sh prepares the ledger and the
// server). Fails with a message naming the step on the first thing that is not as
// docs/web.md says. Environment: BASE_URL, CHROMIUM, PHARMACY_TOKEN, REGULATOR_TOKEN,
// MANUFACTURER_TOKEN, SPONSOR_TOKEN, SITE_TOKEN, PHARMACY_GLN, PHOTO (a label of pack A2), CAMERA (the
// same as MJPEG), DOWNLOADS (directory for the bundle and the serials), SHOTS (directory for
// screenshots), DATASET (trial PDG-CT-2026-01's DM as CSV), CANDIDATE (the same with one
// record changed), IDLE_TIMEOUT and LIFETIME (the session settings the server runs with),
// RECEIPT_SECRET (the reference secret of the subject enrolled at site-701).
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error('environment variable ' + name + ' is not set');
  return v;
};
const base = env('BASE_URL');
const GS = '\u001d';
// What a keyboard-wedge scanner types for the Data Matrix of pack A1: GTIN, expiry, lot
// (variable length, so a GS ends it), serial.
const scanA1 = '0109506000134352' + '17280331' + '10L1' + GS + '21A1';

let step = 'start';
let currentPage = null;  // For the page's state in a failure message.
async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: path.join(env('SHOTS'), 'web-' + name + '.png'), fullPage });
}
async function text(page, selector) {
  return page.$eval(selector, (e) => e.textContent.trim());
}
async function signIn(page, token) {
  await page.waitForSelector('#token', { visible: true });
  await page.type('#token', token);
  await page.keyboard.press('Enter');  // Keyboard only: no click needed anywhere.
  await page.waitForSelector('#sign-out', { visible: true });
}
async function statusMatches(page, id, pattern) {
  await page.waitForFunction((i, p) => new RegExp(p).test(document.getElementById(i).textContent),
    {}, id, pattern.source);
  return text(page, '#' + id);
}
async function signOut(page) {
  await page.click('#sign-out');
  await page.waitForSelector('#signin-view:not([hidden])');
}
// A phone's width: the page must not scroll sideways (wide tables scroll in their own box).
async function fitsPhone(page) {
  const desktop = page.viewport();
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1 });
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  await page.setViewport(desktop);
  assert.ok(widths[0] <= widths[1], 'the page is ' + widths[0] + ' px wide on a ' + widths[1] + ' px screen');
}
// The downloaded file matching `pattern`, once Chromium has finished writing it: the name can
// appear before its bytes do (CI read an empty bundle once), so wait until no download is in
// progress and the file is non-empty and the same size on two polls in a row.
async function waitForDownload(pattern, dir = env('DOWNLOADS')) {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const names = fs.readdirSync(dir);
    const file = names.find((f) => pattern.test(f));
    if (file && !names.some((f) => f.endsWith('.crdownload'))) {
      const size = fs.statSync(path.join(dir, file)).size;
      if (size > 0 && size === last) return path.join(dir, file);
      last = size;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('nothing matching ' + pattern + ' was downloaded completely');
}
async function verdict(page) {
  await page.waitForFunction(() => {
    const box = document.getElementById('verdict');
    return !box.hidden && document.getElementById('pharmacy-status').textContent === '';
  });
  return text(page, '#verdict-word');
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: [
      // getUserMedia answered by a fake camera that films the label of pack A2, and granted
      // without a prompt.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--use-file-for-fake-video-capture=' + env('CAMERA'),
    ].concat(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
  });
  try {
    const page = await browser.newPage();
    currentPage = page;
    const violations = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (e) => violations.push('page error: ' + e.message));
    // A phone's screen for the pharmacy.
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1 });

    step = 'the page loads with its CSP and asks for sign-in';
    const response = await page.goto(base + '/', { waitUntil: 'networkidle0' });
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
    await page.waitForSelector('#signin-view:not([hidden])');
    assert.equal(await page.$eval('#nav', (e) => getComputedStyle(e).display), 'none');
    await shot(page, 'signin');
    // Every form control of every page has a label a screen reader announces.
    const unlabelled = await page.$$eval('input, select, textarea', (controls) =>
      controls.filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id));
    assert.deepEqual(unlabelled, []);

    step = 'a wrong token is refused with a message';
    await page.type('#token', 'pdg_wrong_wrong');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('signin-error').textContent !== '');
    assert.match(await text(page, '#signin-error'), /Not signed in/);

    step = 'the pharmacy signs in with its token';
    await signIn(page, env('PHARMACY_TOKEN'));
    assert.match(await text(page, '#who'), /apotheke-1/);
    const cookies = await page.cookies();
    const session = cookies.find((c) => c.name === 'pedigree_session');
    assert.ok(session, 'no session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');

    step = 'a scanned code with GS separators verifies';
    await page.waitForSelector('#pack-code', { visible: true });
    await page.type('#location', env('PHARMACY_GLN'));
    await page.focus('#pack-code');
    await page.keyboard.type(scanA1);  // GS arrives as the character itself.
    await page.keyboard.press('Enter');
    assert.equal(await verdict(page), 'VERIFIED');
    assert.equal(await text(page, '#fact-product'), 'Examplamab');
    assert.equal(await text(page, '#fact-lot'), 'L1');
    assert.equal(await text(page, '#fact-expiry'), '2028-03-31');
    await shot(page, 'pharmacy-verified', true);

    step = 'a cookie request without the CSRF header is refused';
    const forged = await page.evaluate(async () => {
      const r = await fetch('/v1/dispense', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: '(01)09506000134352(21)A2', location: '9506000000039' }),
      });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error.code, 'auth.csrf');

    step = 'Dispense records the pack as supplied';
    await page.click('#dispense');
    await page.waitForFunction(() =>
      /Dispense recorded/.test(document.getElementById('pharmacy-status').textContent));

    step = 'the second scan of the same pack is NOT VERIFIED, with the reason';
    // The app puts the focus back in the field, selected, after a dispense.
    // This time GS comes as Ctrl+], as scanners in a plain keyboard layout send it.
    await page.keyboard.type('0109506000134352' + '17280331' + '10L1');
    await page.keyboard.down('Control');
    await page.keyboard.press('BracketRight');
    await page.keyboard.up('Control');
    await page.keyboard.type('21A1');
    assert.equal(await page.$eval('#pack-code', (e) => e.value), scanA1);
    await page.keyboard.press('Enter');
    assert.equal(await verdict(page), 'NOT VERIFIED');
    const reasons = await text(page, '#reasons');
    assert.match(reasons, /dispensed|decommissioned|supplied/i, 'reasons: ' + reasons);
    assert.notEqual(await text(page, '#next-step'), '');
    assert.equal(await page.$eval('#undo', (e) => e.disabled), false);
    await shot(page, 'pharmacy-not-verified', true);

    step = 'Undo makes the pack active again';
    await page.click('#undo');
    await page.waitForFunction(() =>
      /Undo recorded/.test(document.getElementById('pharmacy-status').textContent));
    await page.click('#verify-form button[type=submit]');
    assert.equal(await verdict(page), 'VERIFIED');

    step = 'a photo of another pack is decoded by the node and verified';
    const upload = await page.$('#photo');
    await upload.uploadFile(env('PHOTO'));
    await page.waitForFunction(() => document.getElementById('pack-code').value.endsWith('21A2'));
    assert.equal(await verdict(page), 'VERIFIED');

    step = 'the camera (getUserMedia) takes a photo that the node decodes and verifies';
    await page.$eval('#pack-code', (e) => { e.value = ''; });
    await page.click('#camera-start');
    await page.waitForSelector('#camera-shoot', { visible: true });
    // As a person would: the preview has shown a few frames before the shutter is pressed.
    await page.waitForFunction(() => document.getElementById('camera').currentTime > 0.5);
    await page.click('#camera-shoot');
    await page.waitForFunction(() => document.getElementById('pack-code').value.endsWith('21A2'));
    assert.equal(await verdict(page), 'VERIFIED');

    step = 'sign-out ends the session';
    await page.click('#sign-out');
    await page.waitForSelector('#signin-view:not([hidden])');
    const after = await page.evaluate(async () => (await fetch('/v1/session')).status);
    assert.equal(after, 401);

    step = 'the regulator signs in and opens a pack report inline';
    await page.setViewport({ width: 1100, height: 900, deviceScaleFactor: 1 });
    await signIn(page, env('REGULATOR_TOKEN'));
    await page.waitForSelector('#regulator-view:not([hidden])');
    await page.type('#report-code', '(01)09506000134352(21)A1');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#report-frame:not([hidden])');
    const frameHandle = await page.$('#report-frame');
    let frame = null;
    for (let i = 0; i < 100 && !frame; i++) {
      frame = await frameHandle.contentFrame();
      if (frame && !/Examplamab/.test(await frame.content().catch(() => ''))) frame = null;
      if (!frame) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(frame, 'the report did not render in the page');
    await shot(page, 'regulator-report');

    step = 'Download bundle saves the bundle';
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: env('DOWNLOADS') });
    await page.click('#bundle-link');
    const file = await waitForDownload(/\.json$/);
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.match(String(bundle.format || bundle.version || ''), /pedigree-bundle/);

    step = 'the regulator searches a case by its SSCC: the report inline and its bundle';
    await page.select('#report-kind', 'container');
    assert.equal(await text(page, '#report-code-label'), 'SSCC');
    await page.$eval('#report-code', (e) => { e.value = ''; });
    await page.type('#report-code', '095060000000000015');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#report-frame:not([hidden])');
    assert.match(await page.$eval('#bundle-link', (e) => e.getAttribute('href')), /^\/v1\/bundles\/container\?code=095060000000000015$/);
    const caseFrame = await (await page.$('#report-frame')).contentFrame();
    await caseFrame.waitForFunction(() => /095060000000000015/.test(document.body ? document.body.textContent : ''));

    step = 'the regulator searches a batch and sees its report inline';
    await page.select('#report-kind', 'batch');
    await page.waitForSelector('#report-lot', { visible: true });
    assert.equal(await text(page, '#report-code-label'), 'GTIN');
    await page.$eval('#report-code', (e) => { e.value = ''; });
    await page.type('#report-code', '09506000134352');
    await page.type('#report-lot', 'L1');
    await page.keyboard.press('Enter');
    assert.match(await statusMatches(page, 'report-summary', /Batch L1/), /Examplamab/);
    assert.equal(await page.$eval('#bundle-link', (e) => e.hidden), true, 'a batch has no bundle');
    const batchFrame = await (await page.$('#report-frame')).contentFrame();
    await batchFrame.waitForFunction(() => /L1/.test(document.body ? document.body.textContent : ''));
    await shot(page, 'regulator-batch');

    step = 'an unknown batch is refused in words, with its code';
    await page.$eval('#report-lot', (e) => { e.value = 'NOPE'; });
    await page.click('#report-form button[type=submit]');
    assert.match(await statusMatches(page, 'report-error', /batch\.not_found/), /No report/);
    assert.equal(await page.$eval('#report-frame', (e) => e.hidden), true);

    step = 'the regulator searches a trial and sees its report inline';
    await page.select('#report-kind', 'trial');
    await page.waitForSelector('#report-lot', { hidden: true });
    await page.$eval('#report-code', (e) => { e.value = ''; });
    await page.type('#report-code', 'PDG-CT-2026-01');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#report-frame:not([hidden])');
    assert.notEqual(await text(page, '#report-summary'), '');
    const trialFrame = await (await page.$('#report-frame')).contentFrame();
    await trialFrame.waitForFunction(() => /PDG-CT-2026-01/.test(document.body ? document.body.textContent : ''));

    step = 'the regulator page fits a phone';
    await fitsPhone(page);

    step = 'the regulator runs the audit as a job: its progress, then the result';
    await page.click('#audit-run');
    await page.waitForSelector('#audit-result:not([hidden])');
    assert.equal(await page.$eval('#audit-running', (e) => e.hidden), true);
    assert.equal(await text(page, '#audit-verdict'), 'VERIFIED');
    assert.ok(await page.$$eval('#audit-checks tbody tr', (rows) => rows.length) >= 5);
    // The bar was a real one: entries checked of the total, from the job's status.
    const bar = await page.$eval('#audit-progress', (e) => [e.value, e.max]);
    assert.ok(bar[1] > 1 && bar[0] === bar[1], 'progress bar at ' + bar.join(' of '));
    assert.match(await text(page, '#audit-count'), new RegExp('^' + bar[1] + ' of ' + bar[1] + ' entries checked'));
    await shot(page, 'regulator-audit', true);
    await signOut(page);

    step = 'the manufacturer signs in and is offered its page only';
    await signIn(page, env('MANUFACTURER_TOKEN'));
    await page.waitForSelector('#manufacturer-view:not([hidden])');
    const navShown = await page.$$eval('#nav a', (links) => links.filter((a) => !a.hidden).map((a) => a.id));
    assert.deepEqual(navShown, ['nav-manufacturer']);

    step = 'the manufacturer registers a batch';
    await page.type('#batch-gtin', '09506000134352');
    await page.type('#batch-lot', 'L7');
    await page.$eval('#batch-expiry', (e) => { e.value = '2028-03-31'; });
    await page.type('#batch-quantity', '3');
    await page.click('#batch-form button[type=submit]');
    await statusMatches(page, 'batch-status', /Batch L7 registered/);
    // The GTIN and lot carry over to the next forms.
    assert.equal(await page.$eval('#commission-lot', (e) => e.value), 'L7');

    step = 'the manufacturer commissions 3 packs and sees their serials';
    await page.type('#commission-location', '9506000000008');
    await page.type('#commission-count', '3');
    await page.click('#commission-form button[type=submit]');
    await statusMatches(page, 'commission-status', /3 packs commissioned/);
    const serials = await page.$$eval('#serials li', (items) => items.map((li) => li.textContent));
    assert.equal(serials.length, 3);
    for (const serial of serials) assert.match(serial, /^[0-9A-Z]+$/);
    await shot(page, 'manufacturer', true);

    step = 'the serials download as CSV';
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: env('DOWNLOADS') });
    await page.click('#serials-download');
    const csv = fs.readFileSync(await waitForDownload(/^serials-.*\.csv$/), 'utf8');
    for (const serial of serials) assert.ok(csv.includes(',' + serial + ','), 'serial ' + serial + ' not in the CSV');

    step = 'Print labels shows a print page of the 3 packs as GS1 element strings';
    await page.evaluate(() => { window.print = () => { document.body.dataset.printed = 'yes'; }; });
    await page.click('#labels-print');
    await page.waitForSelector('#labels-view:not([hidden])');
    // The print dialog opens once the sheet's images are in: each label's DataMatrix is the
    // node's PNG (GET /v1/labels/pack), loaded with the session.
    await page.waitForFunction(() => document.body.dataset.printed === 'yes');
    assert.ok(await page.$$eval('#labels img', (imgs) => imgs.length === 3 && imgs.every((img) => img.complete && img.naturalWidth > 0)));
    const labels = await page.$$eval('#labels .label code', (codes) => codes.map((c) => c.textContent));
    assert.deepEqual(labels, serials.map((x) => '(01)09506000134352(17)280331(10)L7(21)' + x));
    assert.equal(await text(page, '#labels-sheet'), 'Sheet 1 of 1: labels 1 to 3 of 3 (batch L7).');
    assert.deepEqual(await page.$$eval('#labels-previous, #labels-next', (b) => b.map((x) => x.hidden)), [true, true]);
    await page.emulateMediaType('print');
    assert.equal(await page.$eval('header', (e) => getComputedStyle(e).display), 'none');
    await shot(page, 'labels');
    await page.emulateMediaType(null);
    await page.click('#labels-back');
    await page.waitForSelector('#manufacturer-view:not([hidden])');

    step = 'the manufacturer recalls the batch with a reason and sees its reach';
    assert.equal(await page.$eval('#recall-lot', (e) => e.value), 'L7');
    await page.type('#recall-reason', 'sterility deviation in filling line 2');
    await page.click('#recall-form button[type=submit]');
    await statusMatches(page, 'recall-status', /Batch L7 recalled/);
    await page.waitForSelector('#reach-box:not([hidden])');
    assert.match(await text(page, '#reach-summary'), /recalled: sterility deviation.*3 packs with 1 holder/);
    const reach = await page.$$eval('#reach tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(reach, [['mfg', '—', 'active', '3']]);
    await shot(page, 'manufacturer-recall', true);

    step = 'the manufacturer\'s page fits a phone';
    await fitsPhone(page);

    step = 'a second recall of the same batch is refused in words';
    await page.click('#recall-form button[type=submit]');
    await statusMatches(page, 'recall-status', /Refused: .*\(/);

    step = 'labels of 61 packs come in two sheets';
    for (const id of ['batch-lot', 'batch-quantity', 'commission-lot', 'commission-count']) {
      await page.$eval('#' + id, (e) => { e.value = ''; });
    }
    await page.type('#batch-lot', 'L8');
    await page.type('#batch-quantity', '61');
    await page.click('#batch-form button[type=submit]');
    await statusMatches(page, 'batch-status', /Batch L8 registered/);
    assert.equal(await page.$eval('#commission-lot', (e) => e.value), 'L8');  // carried over
    await page.type('#commission-count', '61');
    await page.click('#commission-form button[type=submit]');
    await statusMatches(page, 'commission-status', /61 packs commissioned/);
    await page.evaluate(() => { delete document.body.dataset.printed; });
    await page.click('#labels-print');
    await page.waitForFunction(() => document.body.dataset.printed === 'yes');
    assert.equal(await text(page, '#labels-sheet'), 'Sheet 1 of 2: labels 1 to 60 of 61 (batch L8).');
    assert.equal(await page.$$eval('#labels img', (imgs) => imgs.length), 60);
    await page.evaluate(() => { delete document.body.dataset.printed; });
    await page.click('#labels-next');
    await page.waitForFunction(() => document.body.dataset.printed === 'yes');
    assert.equal(await text(page, '#labels-sheet'), 'Sheet 2 of 2: labels 61 to 61 of 61 (batch L8).');
    assert.deepEqual(await page.$$eval('#labels-previous, #labels-next', (b) => b.map((x) => x.hidden)), [false, true]);
    assert.ok(await page.$$eval('#labels img', (imgs) => imgs.length === 1 && imgs[0].naturalWidth > 0));
    await page.click('#labels-back');
    await signOut(page);

    step = 'the sponsor signs in; the session lasts as the server is set';
    const signInAnswer = page.waitForResponse((r) => r.url().endsWith('/v1/session') && r.request().method() === 'POST');
    await signIn(page, env('SPONSOR_TOKEN'));
    const answer = await (await signInAnswer).json();
    assert.equal(answer.idleTimeoutSeconds, Number(env('IDLE_TIMEOUT')));
    const sponsorCookie = (await page.cookies()).find((c) => c.name === 'pedigree_session');
    const lifetime = sponsorCookie.expires - Date.now() / 1000;
    assert.ok(Math.abs(lifetime - Number(env('LIFETIME'))) < 120, 'cookie lives ' + lifetime + ' s');
    await page.waitForSelector('#trials-view:not([hidden])');
    assert.equal(await page.$eval('#lock-form', (e) => e.hidden), false);
    assert.equal(await page.$eval('#consent-form', (e) => e.hidden), true, 'consents are the site\'s');

    step = 'the sponsor sees the trial\'s status, no dataset yet';
    await page.type('#trial-id', 'PDG-CT-2026-01');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#trial-box:not([hidden])');
    assert.match(await text(page, '#trial-name'), /PDG-CT-2026-01: Pedigrenol/);
    assert.match(await text(page, '#trial-protocol'), /version 1\.0/);
    assert.equal(await page.$eval('#domains-empty', (e) => e.hidden), false);

    step = 'the sponsor uploads the DM dataset';
    await page.type('#sig-name', 'Dr Sam Sponsor');
    await page.select('#sig-meaning', 'approval');
    await page.type('#upload-domain', 'DM');
    await (await page.$('#upload-file')).uploadFile(env('DATASET'));
    await page.click('#upload-form button[type=submit]');
    await statusMatches(page, 'upload-status', /DM: 240 records submitted/);
    await page.waitForFunction(() => document.querySelectorAll('#trial-domains tbody tr').length === 1);

    step = 'the sponsor hard-locks and seals DM; the status shows both';
    await page.type('#lock-domain', 'DM');
    await page.select('#lock-action', 'hard_lock');
    await page.click('#lock-form button[type=submit]');
    await statusMatches(page, 'lock-status', /DM: hard lock recorded/);
    await page.type('#seal-domain', 'DM');
    await page.click('#seal-form button[type=submit]');
    await statusMatches(page, 'seal-status', /DM sealed: 240 records/);
    await page.waitForFunction(() => /240 records, root/.test(document.querySelector('#trial-domains tbody').textContent));
    const row = await page.$$eval('#trial-domains tbody td', (cells) => cells.map((c) => c.textContent));
    assert.equal(row[0], 'DM');
    assert.equal(row[2], 'hard lock');

    step = 'a candidate with one record changed differs from the seal; the uploaded file is identical';
    await page.type('#check-domain', 'DM');
    await (await page.$('#check-file')).uploadFile(env('CANDIDATE'));
    await page.click('#check-form button[type=submit]');
    assert.match(await statusMatches(page, 'check-status', /DIFFERS|IDENTICAL/), /DIFFERS from the seal: 1 changed, 0 added, 0 deleted/);
    await (await page.$('#check-file')).uploadFile(env('DATASET'));
    await page.click('#check-form button[type=submit]');
    await statusMatches(page, 'check-status', /IDENTICAL to the seal: 240 records/);

    step = 'the sponsor makes a disclosure, which the public endpoint verifies';
    await page.type('#disclose-domain', 'DM');
    await page.type('#disclose-key', 'PDG-CT-2026-01|PDG-CT-2026-01-701-0001');
    await page.click('#disclose-form button[type=submit]');
    await statusMatches(page, 'disclose-status', /Disclosure of .* made/);
    // Downloaded apart from the bundle, which run.sh finds as the only *.json.
    const disclosureDir = path.join(env('DOWNLOADS'), 'disclosure');
    fs.mkdirSync(disclosureDir, { recursive: true });
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: disclosureDir });
    await page.click('#disclose-download');
    const disclosure = await waitForDownload(/^disclosure-PDG-CT-2026-01-DM\.json$/, disclosureDir);
    const disclosureText = fs.readFileSync(disclosure, 'utf8');
    const disclosed = await page.evaluate(async (body) => {
      const r = await fetch('/v1/disclosures/verify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      return { status: r.status, body: await r.json() };
    }, disclosureText);
    assert.equal(disclosed.status, 200, JSON.stringify(disclosed.body));
    assert.equal(disclosed.body.verified, true);

    step = 'the sponsor grants the inspectorate access to DM, sees the grant and revokes it';
    await page.type('#grant-id', 'G-1');
    await page.type('#grant-grantee', 'inspectorate');
    await page.select('#grant-purpose', 'regulator');
    await page.type('#grant-domains', 'DM');
    await page.type('#grant-start', '2026-01-01T00:00:00Z');
    await page.type('#grant-expiry', '2030-01-01T00:00:00Z');
    await page.click('#grant-form button[type=submit]');
    await statusMatches(page, 'grant-status', /Grant G-1 recorded/);
    await page.waitForSelector('#grants:not([hidden])');
    await shot(page, 'trials', true);

    step = 'the inspectorate reads a record under G-1 (its own client, with its token)';
    const read = await fetch(base + '/v1/trials/PDG-CT-2026-01/disclosures?domain=DM&key=' +
      encodeURIComponent('PDG-CT-2026-01|PDG-CT-2026-01-701-0001'),
    { headers: { Authorization: 'Bearer ' + env('REGULATOR_TOKEN') } });
    assert.equal(read.status, 200, await read.text());
    await page.click('#grants button[aria-label="Revoke grant G-1"]');
    await statusMatches(page, 'grants-status', /Grant G-1 revoked/);
    // The status is shown before the list is fetched again: wait for the list, not the status.
    await page.waitForFunction(() => /revoked/.test(document.querySelector('#grants tbody').textContent));
    assert.match(await text(page, '#grants tbody'), /revoked/);

    step = 'the sponsor\'s access record shows the inspectorate\'s read';
    await page.click('#accesses-load');
    await page.waitForFunction(() => document.querySelectorAll('#accesses tbody tr').length === 1);
    const access = await page.$$eval('#accesses tbody td', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(access.slice(1), ['inspectorate', 'G-1', 'DM', '1', 'regulator', 'granted']);
    assert.equal(await page.$eval('#accesses-more', (e) => e.hidden), true);

    step = 'the trials page fits a phone';
    await fitsPhone(page);

    step = 'the site signs in and is offered its own forms, not the sponsor\'s';
    await signOut(page);
    await signIn(page, env('SITE_TOKEN'));
    await page.waitForSelector('#trials-view:not([hidden])');
    assert.equal(await page.$eval('#consent-form', (e) => e.hidden), false);
    assert.equal(await page.$eval('#withdraw-form', (e) => e.hidden), false);
    assert.equal(await page.$eval('#lock-form', (e) => e.hidden), true, 'locks are the sponsor\'s');
    assert.equal(await page.$eval('#grant-form', (e) => e.offsetParent === null), true, 'grants are the sponsor\'s');

    step = 'a consent for a subject the trial has not enrolled is refused in words, naming the field';
    await page.type('#trial-id', 'PDG-CT-2026-01');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#trial-box:not([hidden])');
    await page.$eval('#sig-name', (e) => { e.value = ''; });
    await page.type('#sig-name', 'Dr Ada Site');
    await page.type('#consent-subject', 'ab'.repeat(32));
    await page.type('#consent-icf', '9.9');
    await page.type('#consent-time', '2026-05-13T09:30:00Z');
    await page.type('#consent-granted', 'core');
    await page.click('#consent-form button[type=submit]');
    await statusMatches(page, 'consent-status', /Refused: .*\(trial\.unknown_subject, field subjectRef\)/);

    step = 'the site asks for a receipt with a wrong secret: refused in words, the field cleared';
    await page.type('#receipt-secret', 'not-the-secret');
    await page.click('#receipt-form button[type=submit]');
    await statusMatches(page, 'receipt-status', /No receipt: .*\(trial\.receipt_subject_unknown\)/);
    assert.equal(await page.$eval('#receipt-secret', (e) => e.value), '');

    step = 'the site gets the participant\'s receipt: a summary and a download named after the trial';
    const receiptDir = path.join(env('DOWNLOADS'), 'receipt');
    fs.mkdirSync(receiptDir, { recursive: true });
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: receiptDir });
    await page.type('#receipt-secret', env('RECEIPT_SECRET'));
    await page.click('#receipt-form button[type=submit]');
    await statusMatches(page, 'receipt-status', /Receipt of trial PDG-CT-2026-01 ready/);
    await page.waitForSelector('#receipt-box:not([hidden])');
    assert.equal(await page.$eval('#receipt-secret', (e) => e.value), '');
    assert.equal(await text(page, '#receipt-consents'), '0');
    assert.equal(await text(page, '#receipt-withdrawal'), 'none');
    assert.equal(await text(page, '#receipt-accesses'), '0');
    assert.match(await text(page, '#receipt-checkpoint'), /^log size \d+$/);
    assert.equal(await text(page, '#receipt-checked'), 'VERIFIED');
    await page.click('#receipt-download');
    const receiptFile = await waitForDownload(/^receipt-PDG-CT-2026-01\.json$/, receiptDir);
    await shot(page, 'trials-receipt');

    step = 'the participant, not signed in, checks the receipt: VERIFIED';
    await signOut(page);
    await page.click('#receipt-link');
    await page.waitForSelector('#receipt-view:not([hidden])');
    await (await page.$('#receipt-file')).uploadFile(receiptFile);
    await page.click('#receipt-check-form button[type=submit]');
    await page.waitForFunction(() => !document.getElementById('receipt-result').hidden &&
      document.getElementById('receipt-verdict').textContent !== '');
    assert.equal(await text(page, '#receipt-verdict'), 'VERIFIED', await text(page, '#receipt-reason'));
    assert.equal(await page.$eval('#receipt-no-access', (e) => e.hidden), false);
    assert.match(await text(page, '#receipt-trust'), /pedigree trial verify-receipt/);
    await shot(page, 'receipt-verified', true);

    step = 'a copy with an entry left out is NOT VERIFIED, with the reason';
    const receipt = JSON.parse(fs.readFileSync(receiptFile, 'utf8'));
    receipt.entries.pop();
    const tamperedFile = path.join(receiptDir, 'tampered.json');
    fs.writeFileSync(tamperedFile, JSON.stringify(receipt));
    await (await page.$('#receipt-file')).uploadFile(tamperedFile);
    await page.click('#receipt-check-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('receipt-verdict').textContent === 'NOT VERIFIED');
    assert.match(await text(page, '#receipt-reason'), /missing from the file.*\(bundle\.incomplete\)/);
    await shot(page, 'receipt-not-verified', true);

    step = 'the receipt page fits a phone';
    await fitsPhone(page);

    step = 'no CSP violation and no script error on the way';
    assert.deepEqual(violations, []);
    console.log('web app: every step passed');
  } catch (e) {
    if (currentPage) {
      const seen = await currentPage.evaluate(() => ['pharmacy-status', 'verdict-word', 'reasons', 'report-error', 'signin-error',
        'batch-status', 'commission-status', 'recall-status', 'audit-error', 'trial-error', 'upload-status', 'lock-status',
        'seal-status', 'check-status', 'disclose-status', 'grant-status', 'grants-status', 'consent-status',
        'accesses-status', 'receipt-status', 'receipt-check-status', 'receipt-verdict', 'receipt-reason']
        .map((id) => id + ': ' + (document.getElementById(id) || {}).textContent).join('\n')).catch(() => '');
      e.message += '\npage state:\n' + seen;
    }
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error('FAIL at "' + step + '": ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
