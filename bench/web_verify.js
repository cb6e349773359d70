// Web verify round trip (issue 13, Performance), driven by web_verify.sh: the pharmacy page
// in headless Chromium, signed in with a dispenser token. Each iteration puts the pack code
// into "Pack code" as a keyboard-wedge scanner does (the whole string at once), presses
// Verify and waits for the verdict on the page; the time is taken in the page
// (performance.now() from the Verify click to the DOM holding the verdict, seen by a
// MutationObserver). Reference, interleaved: the bare API call from the page, fetch of
// GET /v1/verify with the session cookie and the body read. Prints p50/p99 of both.
// Environment: BASE_URL, CHROMIUM, TOKEN, CODE, ITERATIONS.
'use strict';
const puppeteer = require('puppeteer-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error('environment variable ' + name + ' is not set');
  return v;
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  const iterations = Number(env('ITERATIONS'));
  const browser = await puppeteer.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const page = await browser.newPage();
    await page.goto(env('BASE_URL') + '/', { waitUntil: 'networkidle0' });
    await page.waitForSelector('#token', { visible: true });
    await page.type('#token', env('TOKEN'));
    await page.keyboard.press('Enter');
    await page.waitForSelector('#pack-code', { visible: true });

    const roundTrip = (code) => new Promise((resolve, reject) => {
      const status = document.getElementById('pharmacy-status');
      const word = document.getElementById('verdict-word');
      const field = document.getElementById('pack-code');
      field.value = code;
      const t0 = performance.now();
      const done = () => {
        if (status.textContent !== '' || document.getElementById('verdict').hidden) return false;
        observer.disconnect();
        if (word.textContent !== 'VERIFIED') reject(new Error('verdict ' + word.textContent));
        else resolve(performance.now() - t0);
        return true;
      };
      const observer = new MutationObserver(done);
      observer.observe(document.getElementById('app') || document.body,
                       { subtree: true, childList: true, characterData: true, attributes: true });
      document.querySelector('#verify-form button[type=submit]').click();
      // The click runs verify() up to its fetch: the status now says "Verifying…".
      if (status.textContent === '') reject(new Error('Verify did not start'));
    });
    const bareFetch = async (code) => {
      const t0 = performance.now();
      const res = await fetch('/v1/verify?code=' + encodeURIComponent(code),
                              { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const body = await res.json();
      if (!res.ok || !body.verified) throw new Error('GET /v1/verify answered ' + res.status);
      return performance.now() - t0;
    };

    const code = env('CODE');
    for (let i = 0; i < 10; ++i) {  // warm-up: JIT, connection, caches
      await page.evaluate(roundTrip, code);
      await page.evaluate(bareFetch, code);
    }
    const page_ms = [], fetch_ms = [];
    for (let i = 0; i < iterations; ++i) {
      page_ms.push(await page.evaluate(roundTrip, code));
      fetch_ms.push(await page.evaluate(bareFetch, code));
    }
    page_ms.sort((a, b) => a - b);
    fetch_ms.sort((a, b) => a - b);
    const f = (x) => x.toFixed(1);
    const p99 = percentile(page_ms, 99), ref99 = percentile(fetch_ms, 99);
    console.log(`web verify round trip (Verify pressed -> verdict on the page), ${iterations} iterations: ` +
                `p99 ${f(p99)} ms, p50 ${f(percentile(page_ms, 50))} ms (target p99 <= 50 ms; ` +
                `reference the page's bare fetch of GET /v1/verify p99 ${f(ref99)} ms, ` +
                `p50 ${f(percentile(fetch_ms, 50))} ms; ratio of p99 ${(p99 / ref99).toFixed(2)}x)`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error('FAIL: ' + e.message);
  process.exit(1);
});
