// Drives the pedigree web app in headless Chromium (run.sh prepares the ledger and the
// server). Fails with a message naming the step on the first thing that is not as
// docs/web.md says. Environment: BASE_URL, CHROMIUM, PHARMACY_TOKEN, REGULATOR_TOKEN,
// PHARMACY_GLN, PHOTO (a label of pack A2), CAMERA (the same as MJPEG), DOWNLOADS (directory for the bundle), SHOTS (directory for screenshots).
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
    let file = null;
    for (let i = 0; i < 100 && !file; i++) {
      file = fs.readdirSync(env('DOWNLOADS')).find((f) => f.endsWith('.json'));
      if (!file) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(file, 'no bundle was downloaded');
    const bundle = JSON.parse(fs.readFileSync(path.join(env('DOWNLOADS'), file), 'utf8'));
    assert.match(String(bundle.format || bundle.version || ''), /pedigree-bundle/);

    step = 'no CSP violation and no script error on the way';
    assert.deepEqual(violations, []);
    console.log('web app: every step passed');
  } catch (e) {
    if (currentPage) {
      const seen = await currentPage.evaluate(() => ['pharmacy-status', 'verdict-word', 'reasons', 'report-error', 'signin-error']
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
