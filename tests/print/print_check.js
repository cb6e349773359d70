// Prints each HTML report as Chromium does and fails when anything is wider than the A4
// printable width (tests/print/run.sh, docs/reports.md "Printing to PDF").
//
// For every file: print media is emulated, the viewport is set to the printable width of an
// A4 portrait page with 15 mm margins (180 mm = 680 CSS px at 96 px per inch), and every
// element's box and every line of text is measured; anything whose right edge lies past that
// width is reported with a selector and its text. The page is then written with
// page.pdf({format: 'A4'}) to OUT_DIR/NAME.pdf (the report's own @page rule sets the margins)
// and page 1 (the A4 sheet with its margins) as a PNG to OUT_DIR/NAME.png (for docs/img).
//
// usage: node print_check.js CHROMIUM OUT_DIR REPORT.html...
'use strict';
const path = require('path');
const puppeteer = require('puppeteer-core');

const kPrintableWidthPx = Math.floor((180 / 25.4) * 96);  // 680
const kA4HeightPx = Math.floor((297 / 25.4) * 96);         // 1122

async function overflows(page, width) {
  return page.evaluate((limit) => {
    const selector = (el) => {
      const parts = [];
      for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
        let s = e.tagName.toLowerCase();
        if (e.id) s += '#' + e.id;
        if (typeof e.className === 'string' && e.className.trim())
          s += '.' + e.className.trim().split(/\s+/).join('.');
        const parent = e.parentElement;
        if (parent) {
          const same = [...parent.children].filter((c) => c.tagName === e.tagName);
          if (same.length > 1) s += `:nth-of-type(${same.indexOf(e) + 1})`;
        }
        parts.unshift(s);
      }
      return parts.join(' > ');
    };
    const text = (s) => s.replace(/\s+/g, ' ').trim().slice(0, 120);
    const found = [];
    const seen = new Set();
    const report = (el, right, what) => {
      const key = selector(el);
      if (seen.has(key)) return;
      seen.add(key);
      found.push({selector: key, right: Math.round(right), what, text: text(el.textContent || '')});
    };
    // Boxes (tables, cells, preformatted blocks, the SVG timeline)...
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > limit + 0.5) report(el, r.right, 'box');
    }
    // ...and text that runs out of its box (a long token in a block that does not grow).
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) {
        if (r.right > limit + 0.5) {
          report(n.parentElement, r.right, 'text');
          break;
        }
      }
    }
    const doc = document.documentElement;
    if (doc.scrollWidth > limit + 0.5 && found.length === 0)
      found.push({selector: 'html', right: doc.scrollWidth, what: 'page', text: ''});
    return found;
  }, width);
}

async function main() {
  const [chromium, outDir, ...files] = process.argv.slice(2);
  if (!chromium || !outDir || files.length === 0) {
    console.error('usage: node print_check.js CHROMIUM OUT_DIR REPORT.html...');
    process.exit(2);
  }
  const args = ['--disable-gpu', '--font-render-hinting=none'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  const browser = await puppeteer.launch({executablePath: chromium, headless: true, args});
  let failed = 0;
  try {
    for (const file of files) {
      const name = path.basename(file, '.html');
      const page = await browser.newPage();
      await page.emulateMediaType('print');
      await page.setViewport({width: kPrintableWidthPx, height: kA4HeightPx});
      await page.goto('file://' + path.resolve(file), {waitUntil: 'load'});
      const bad = await overflows(page, kPrintableWidthPx);
      if (bad.length) {
        failed++;
        console.error(`FAIL ${name}: ${bad.length} element(s) wider than the A4 printable ` +
                      `width (${kPrintableWidthPx}px = 180 mm):`);
        for (const b of bad.slice(0, 20))
          console.error(`  ${b.what} ends at ${b.right}px: ${b.selector}  "${b.text}"`);
      } else {
        console.log(`ok ${name}: fits ${kPrintableWidthPx}px`);
      }
      await page.pdf({path: path.join(outDir, name + '.pdf'), format: 'A4', printBackground: false});
      // Page 1 as printed: the whole A4 sheet with its 15 mm (57 px) margins.
      await page.addStyleTag({content: 'html{padding:57px;background:#fff}'});
      await page.setViewport({width: kPrintableWidthPx + 2 * 57, height: kA4HeightPx,
                              deviceScaleFactor: 1.5});
      await page.screenshot({path: path.join(outDir, name + '.png')});
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
