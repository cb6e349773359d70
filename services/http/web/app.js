// The pedigree web app (docs/web.md): sign-in, the pharmacy's verify / dispense / undo, the
// manufacturer's batches, packs, labels and recalls, the regulator's reports, bundles and
// audit, the sponsor's and site's trial pages, and a participant's receipt check (no sign-in). Which pages a user is offered follows the
// session's roles; the API decides what each call may do. Every call goes to this node's API with the
// session cookie; state-changing calls carry the session's CSRF token. No framework, no
// third-party code: the Content-Security-Policy allows this file and nothing else.
'use strict';

const GS = '\u001d';
const state = { session: null, csrf: '', lastCode: '', lastVerdict: null };
const $ = (id) => document.getElementById(id);

// One API call. Answers {ok, status, data} with data the parsed JSON (or text).
async function api(method, path, body, contentType) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = state.csrf;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType || 'application/json';
    payload = contentType ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    return { ok: false, status: 0, data: { error: { code: 'network', message: 'the node did not answer: ' + e.message } } };
  }
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON: keep the text */ }
  if (res.status === 401 && path !== '/v1/session') {
    signedOut('Your session has ended; sign in again.');
  }
  return { ok: res.ok, status: res.status, data, text };
}

function errorOf(r) {
  if (r.data && r.data.error) return r.data.error;
  return { code: 'http.' + r.status, message: 'the node answered HTTP ' + r.status };
}

// ---- Views ------------------------------------------------------------------------------

const pages = ['pharmacy', 'manufacturer', 'regulator', 'trials'];
// `receipt` is the participant's page: reachable at #receipt without a session.
const views = ['signin', ...pages, 'labels', 'receipt'];
// The roles each page is offered to (docs/web.md, "Pages"). Verify is open to every member
// role, so a user with none of these roles (admin) gets the pharmacy page.
const pageRoles = {
  pharmacy: ['dispenser', 'wholesaler'],
  manufacturer: ['manufacturer'],
  regulator: ['regulator', 'witness'],
  trials: ['sponsor', 'site'],
};
const firstField = {
  signin: 'token', pharmacy: 'pack-code', manufacturer: 'batch-gtin', regulator: 'report-code',
  trials: 'trial-id', receipt: 'receipt-file',
};

function roles() { return (state.session && state.session.roles) || []; }
function hasRole(...wanted) { return wanted.some((r) => roles().includes(r)); }

function allowedPages() {
  const allowed = pages.filter((p) => hasRole(...pageRoles[p]));
  return allowed.length ? allowed : ['pharmacy'];
}

function show(view) {
  for (const v of views) $(v + '-view').hidden = v !== view;
  for (const v of pages) {
    const link = $('nav-' + v);
    if (v === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const heading = $(view + '-title');
  if (heading) heading.focus();
  if (firstField[view]) $(firstField[view]).focus();
}

function route() {
  const wanted = location.hash.replace('#', '');
  if (wanted === 'receipt') { show('receipt'); return; }
  if (!state.session) { show('signin'); return; }
  const allowed = allowedPages();
  show(allowed.includes(wanted) ? wanted : allowed[0]);
}

function signedIn(session) {
  state.session = session;
  state.csrf = session.csrfToken || '';
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('who').hidden = false;
  $('who').textContent = session.org + ' (' + session.roles.join(', ') + ')';
  const allowed = allowedPages();
  for (const p of pages) $('nav-' + p).hidden = !allowed.includes(p);
  // A sponsor and a site share the trials page; each sees only the forms of its role.
  for (const e of document.querySelectorAll('.sponsor-only')) e.hidden = !hasRole('sponsor');
  for (const e of document.querySelectorAll('.site-only')) e.hidden = !hasRole('site');
  // A witness may run the audit and read no report.
  for (const e of document.querySelectorAll('.regulator-only')) e.hidden = !hasRole('regulator');
  const name = localStorage.getItem('pedigree.signatureName');
  if (name && !$('sig-name').value) $('sig-name').value = name;
  route();
}

function signedOut(message) {
  state.session = null;
  state.csrf = '';
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('who').hidden = true;
  $('who').textContent = '';
  $('verdict').hidden = true;
  $('report-frame').hidden = true;
  $('report-frame').removeAttribute('src');
  $('bundle-link').hidden = true;
  // Nothing of the last user's work stays on the screen for the next one.
  for (const id of ['serials-box', 'reach-box', 'audit-result', 'trial-box', 'grants', 'disclose-download',
    'receipt-box', 'receipt-download', 'accesses', 'accesses-more']) $(id).hidden = true;
  // A participant's receipt stays in no blob: URL the next user could open.
  if ($('receipt-download').href.startsWith('blob:')) URL.revokeObjectURL($('receipt-download').href);
  $('receipt-download').href = '#';
  for (const e of document.querySelectorAll('.result, #report-summary')) {
    e.textContent = '';
    e.classList.remove('error');
  }
  $('labels').replaceChildren();
  // Nor what they typed (subject references, reasons); the device's own settings come back.
  for (const form of document.forms) form.reset();
  $('sig-name').value = '';
  $('location').value = localStorage.getItem('pedigree.location') || '';
  onReportKind();
  $('signin-error').textContent = message || '';
  route();
}

// ---- Sign-in ----------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const token = $('token').value.trim();
  $('signin-error').textContent = '';
  const r = await api('POST', '/v1/session', { token });
  $('token').value = '';
  if (!r.ok) {
    $('signin-error').textContent = 'Not signed in: ' + errorOf(r).message;
    $('token').focus();
    return;
  }
  signedIn(r.data);
}

async function signOut() {
  await api('DELETE', '/v1/session');
  signedOut('Signed out.');
}

// ---- Pharmacy ---------------------------------------------------------------------------

function setText(id, text) { $(id).textContent = text || '—'; }

function renderVerdict(v) {
  state.lastVerdict = v;
  const box = $('verdict');
  box.hidden = false;
  box.className = 'verdict-box ' + (v.verified ? 'ok' : 'bad');
  $('verdict-word').textContent = v.verified ? 'VERIFIED' : 'NOT VERIFIED';
  setText('fact-product', v.product);
  setText('fact-lot', v.lot);
  setText('fact-expiry', v.expiry);
  setText('fact-status', v.status + (v.batchStatus && v.batchStatus !== 'active' ? ' (batch ' + v.batchStatus + ')' : ''));
  const list = $('reasons');
  list.replaceChildren();
  const reasons = v.reasons || [];
  for (const r of reasons) {
    const li = document.createElement('li');
    li.textContent = r.message;
    list.append(li);
  }
  if (reasons.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'Known pack, active, nothing speaks against it.';
    list.append(li);
  }
  for (const h of v.scanHints || []) {
    const li = document.createElement('li');
    li.textContent = 'Scan: ' + (h.message || h);
    list.append(li);
  }
  const steps = [...new Set(reasons.map((r) => r.nextStep).filter(Boolean))];
  if (v.verified) steps.push('Supply the pack and press Dispense.');
  if (v.custodyHint) steps.push('Custody: ' + v.custodyHint + '.');
  $('next-step').textContent = steps.join(' ');
  $('dispense').disabled = !v.verified;
  // Only the organisation that set a pack's status may undo it (the rules decide the rest).
  $('undo').disabled = !(v.custody === 'decommissioned' && state.session && v.statusBy === state.session.org);
}

function renderRefusal(err) {
  renderVerdict({ verified: false, status: 'not read', reasons: [{ message: err.message + ' (' + err.code + ')', nextStep: err.nextStep || 'Scan the code again, or type it as printed.' }] });
  $('undo').disabled = true;
}

// Scanners end a read with Enter (which submits the form) and may leave stray CR/LF.
function cleanCode(text) { return text.replace(/[\r\n]+/g, '').trim(); }

async function verify(code) {
  code = cleanCode(code);
  if (!code) {
    $('pharmacy-status').textContent = 'Scan or type a pack code first.';
    $('pack-code').focus();
    return;
  }
  state.lastCode = code;
  $('pharmacy-status').textContent = 'Verifying…';
  const r = await api('GET', '/v1/verify?code=' + encodeURIComponent(code));
  $('pharmacy-status').textContent = '';
  if (!r.ok) { if (r.status !== 401) renderRefusal(errorOf(r)); return; }
  renderVerdict(r.data);
  // The next scan replaces this one.
  $('pack-code').select();
}

function locationGln() {
  const gln = $('location').value.trim();
  if (!/^[0-9]{13}$/.test(gln)) {
    $('pharmacy-status').textContent = 'Enter this pharmacy\'s 13-digit GLN under "Your location (GLN)" first.';
    $('location').focus();
    return null;
  }
  localStorage.setItem('pedigree.location', gln);
  return gln;
}

async function recordAction(path, word) {
  const location = locationGln();
  if (!location || !state.lastCode) return;
  const r = await api('POST', path, { code: state.lastCode, location });
  if (!r.ok) {
    if (r.status !== 401) $('pharmacy-status').textContent = word + ' refused: ' + errorOf(r).message + ' (' + errorOf(r).code + ')';
    return;
  }
  $('pharmacy-status').textContent = word + ' recorded (ledger entry ' + r.data.index + ').';
  $('dispense').disabled = path === '/v1/dispense';
  $('undo').disabled = path !== '/v1/dispense';
  // Back to the field, selected, so the scanner's next read replaces the last code.
  $('pack-code').focus();
  $('pack-code').select();
}

// A keyboard-wedge scanner sends the GS1 separator GS as Ctrl+] when it cannot type the
// character itself; put the character in the field as the API expects it.
function onPackCodeKey(event) {
  if (event.ctrlKey && (event.key === ']' || event.code === 'BracketRight')) {
    event.preventDefault();
    const input = event.target;
    const start = input.selectionStart;
    input.setRangeText(GS, start, input.selectionEnd, 'end');
  }
}

// A photo (file or camera): the node decodes it; the first pack code found is verified.
async function verifyImage(blob) {
  const type = blob.type === 'image/png' ? 'image/png' : 'image/jpeg';
  $('pharmacy-status').textContent = 'Reading the photo…';
  const r = await api('POST', '/v1/scan', blob, type);
  if (!r.ok) { $('pharmacy-status').textContent = ''; if (r.status !== 401) renderRefusal(errorOf(r)); return; }
  const symbols = Array.isArray(r.data) ? r.data : [];
  const pack = symbols.find((s) => s.gs1 && s.gs1.packId) ||
    symbols.find((s) => typeof s.content === 'string' && s.content.includes('/01/'));
  if (!pack) {
    $('pharmacy-status').textContent = '';
    renderRefusal({ code: 'image.no_pack', message: symbols.length ? 'the photo holds no pack code' : 'no barcode was found in the photo', nextStep: 'Take the photo again, closer and in focus, or scan the pack.' });
    return;
  }
  const code = pack.gs1 ? pack.raw : pack.content;
  $('pack-code').value = code;
  await verify(code);
}

let stream = null;
async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    $('pharmacy-status').textContent = 'This browser offers no camera here; use "Photo of the pack".';
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch (e) {
    $('pharmacy-status').textContent = 'No camera: ' + e.message;
    return;
  }
  const video = $('camera');
  video.srcObject = stream;
  video.hidden = false;
  $('camera-shoot').hidden = false;
  await video.play();
  $('camera-shoot').focus();
}

function shootCamera() {
  const video = $('camera');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  for (const t of stream ? stream.getTracks() : []) t.stop();
  stream = null;
  video.hidden = true;
  $('camera-shoot').hidden = true;
  canvas.toBlob((blob) => { if (blob) verifyImage(blob); }, 'image/png');
}

// ---- Shared helpers for the forms ---------------------------------------------------------

function refusal(r) {
  const e = errorOf(r);
  return e.message + ' (' + e.code + (e.field ? ', field ' + e.field : '') + ')';
}

// Writes the outcome of a call to a status line: `ok` words on success, the node's refusal
// (code, message, field) otherwise. Answers whether the call succeeded.
function report(id, r, ok) {
  if (r.status === 401) return false;
  $(id).textContent = r.ok ? ok : 'Refused: ' + refusal(r);
  $(id).classList.toggle('error', !r.ok);
  return r.ok;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null || text === '' ? '—' : String(text);
  row.append(td);
  return td;
}

function fillTable(id, rows, columns) {
  const body = $(id).querySelector('tbody');
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement('tr');
    for (const c of columns) cell(tr, typeof c === 'function' ? c(row) : row[c]);
    body.append(tr);
  }
}

// A download of text made in the page (a blob: URL on a link with `download`).
function offerDownload(link, text, type, name) {
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  link.hidden = false;
}

const value = (id) => $(id).value.trim();
const list = (id) => value(id).split(',').map((x) => x.trim()).filter(Boolean);
const path = (x) => encodeURIComponent(x);

// ---- Manufacturer -------------------------------------------------------------------------

// The last commissioning, for the CSV and the labels: product, lot, expiry, serials.
const commissioned = { gtin: '', lot: '', expiry: '', serials: [] };

// A batch's GTIN and lot typed once carry over to the next forms.
function carryBatch(gtin, lot) {
  for (const f of ['commission', 'recall']) {
    if (!$(f + '-gtin').value) $(f + '-gtin').value = gtin;
    if (!$(f + '-lot').value) $(f + '-lot').value = lot;
  }
}

async function registerBatch(event) {
  event.preventDefault();
  const body = { gtin: value('batch-gtin'), lot: value('batch-lot'), expiry: value('batch-expiry'),
    quantity: Number(value('batch-quantity')) };
  const r = await api('POST', '/v1/batches', body);
  if (report('batch-status', r, 'Batch ' + body.lot + ' registered (ledger entry ' + (r.data && r.data.index) + ').')) {
    carryBatch(body.gtin, body.lot);
    commissioned.expiry = body.expiry;
  }
}

// GS1 element strings of a pack, as printed in human-readable form under its Data Matrix:
// GTIN (01), expiry (17, YYMMDD) when known, lot (10), serial (21).
function elementString(gtin, lot, expiry, serial) {
  const yymmdd = /^\d{4}-\d{2}-\d{2}$/.test(expiry) ? expiry.slice(2, 4) + expiry.slice(5, 7) + expiry.slice(8, 10) : '';
  return '(01)' + gtin + (yymmdd ? '(17)' + yymmdd : '') + '(10)' + lot + '(21)' + serial;
}

function csvField(x) { return /[",\r\n]/.test(x) ? '"' + x.replace(/"/g, '""') + '"' : x; }

async function commission(event) {
  event.preventDefault();
  const gtin = value('commission-gtin');
  const lot = value('commission-lot');
  const body = { gtin, lot, location: value('commission-location'), generate: Number(value('commission-count')) };
  $('serials-box').hidden = true;
  $('commission-status').textContent = 'Commissioning…';
  const r = await api('POST', '/v1/commission', body);
  const serials = (r.ok && r.data && r.data.serials) || [];
  if (!report('commission-status', r, serials.length + ' packs commissioned (ledger entry ' + (r.data && r.data.index) + ').')) return;
  // The expiry is the batch's: from the registration above, else from the batch itself.
  let expiry = commissioned.gtin === gtin && commissioned.lot === lot ? commissioned.expiry : '';
  if (!expiry && value('batch-gtin') === gtin && value('batch-lot') === lot) expiry = value('batch-expiry');
  if (!expiry) {
    const b = await api('GET', '/v1/batches/' + path(gtin) + '/' + path(lot));
    if (b.ok && b.data) expiry = b.data.expiry || '';
  }
  Object.assign(commissioned, { gtin, lot, expiry, serials });
  const ol = $('serials');
  ol.replaceChildren();
  for (const serial of serials) {
    const li = document.createElement('li');
    li.textContent = serial;
    ol.append(li);
  }
  const csv = ['gtin,lot,expiry,serial,element_string']
    .concat(serials.map((x) => [gtin, lot, expiry, x, elementString(gtin, lot, expiry, x)].map(csvField).join(',')))
    .join('\r\n') + '\r\n';
  offerDownload($('serials-download'), csv, 'text/csv', 'serials-' + gtin + '-' + lot + '.csv');
  $('serials-box').hidden = false;
  carryBatch(gtin, lot);
}

// Labels per printed sheet: a commissioning of up to 10,000 packs is printed sheet by
// sheet, so the page never asks the node for thousands of images at once.
const labelsPerSheet = 60;
let labelSheet = 0;

// One sheet of the labels of the last commissioning, on a page of its own laid out for
// printing: each label the node's rendering (GET /v1/labels/pack: the GS1 DataMatrix with
// the human-readable lines) and the element string it holds as text. The print dialog
// opens once every image of the sheet has loaded (or failed: its alt text is printed).
async function showLabelSheet(sheetIndex) {
  const { gtin, lot, expiry, serials } = commissioned;
  const sheets = Math.max(1, Math.ceil(serials.length / labelsPerSheet));
  labelSheet = Math.min(Math.max(0, sheetIndex), sheets - 1);
  const first = labelSheet * labelsPerSheet;
  const onSheet = serials.slice(first, first + labelsPerSheet);
  const sheet = $('labels');
  sheet.replaceChildren();
  const images = [];
  for (const serial of onSheet) {
    const li = document.createElement('li');
    li.className = 'label';
    const img = document.createElement('img');
    img.src = '/v1/labels/pack/' + path(gtin) + '/' + path(serial) + '?module=4';
    img.alt = 'GS1 DataMatrix label: GTIN ' + gtin + ', serial ' + serial + ', lot ' + lot + ', expiry ' + (expiry || 'unknown');
    images.push(img);
    const code = document.createElement('code');
    code.textContent = elementString(gtin, lot, expiry, serial);
    li.append(img, code);
    sheet.append(li);
  }
  $('labels-sheet').textContent = 'Sheet ' + (labelSheet + 1) + ' of ' + sheets + ': labels ' + (first + 1) +
    ' to ' + (first + onSheet.length) + ' of ' + serials.length + ' (batch ' + lot + ').';
  $('labels-previous').hidden = labelSheet === 0;
  $('labels-next').hidden = labelSheet === sheets - 1;
  show('labels');
  await Promise.all(images.map((img) => img.decode().catch(() => {})));
  window.print();
}

function showLabels() { return showLabelSheet(0); }

function renderReach(batch) {
  const reach = batch.recallReach || [];
  const packs = reach.reduce((n, r) => n + (r.packs || 0), 0);
  const holders = new Set(reach.map((r) => r.holder)).size;
  $('reach-summary').textContent = 'Batch ' + batch.subject.lot + ' (' + batch.subject.status +
    (batch.subject.statusReason ? ': ' + batch.subject.statusReason : '') + '): ' + packs +
    ' packs with ' + holders + (holders === 1 ? ' holder.' : ' holders.');
  fillTable('reach', reach, ['holder', 'inTransitTo', 'status', 'packs']);
  $('reach-box').hidden = false;
}

async function showReach(gtin, lot) {
  const r = await api('GET', '/v1/reports/batch/' + path(gtin) + '/' + path(lot));
  if (!r.ok) { report('recall-status', r, ''); return; }
  renderReach(r.data);
}

async function recall(event) {
  event.preventDefault();
  const gtin = value('recall-gtin');
  const lot = value('recall-lot');
  $('reach-box').hidden = true;
  const r = await api('POST', '/v1/batch-status', { gtin, lot, status: 'recalled', reason: value('recall-reason') });
  if (report('recall-status', r, 'Batch ' + lot + ' recalled (ledger entry ' + (r.data && r.data.index) + ').')) await showReach(gtin, lot);
}

async function reachOnly() {
  const gtin = value('recall-gtin');
  const lot = value('recall-lot');
  $('recall-status').textContent = '';
  if (!gtin || !lot) { $('recall-status').textContent = 'Enter the GTIN and the lot first.'; return; }
  await showReach(gtin, lot);
}

// ---- Regulator ----------------------------------------------------------------------------

const reportKinds = {
  pack: { label: 'Pack code', hint: 'As scanned or typed: GS1 element strings, bracketed AIs or a Digital Link URL.',
    report: (c) => '/v1/reports/pack?code=' + path(c), bundle: (c) => '/v1/bundles/pack?code=' + path(c) },
  container: { label: 'SSCC', hint: 'The 18 digits of the case or pallet, or its label as scanned.',
    report: (c) => '/v1/reports/container?code=' + path(c), bundle: (c) => '/v1/bundles/container?code=' + path(c) },
  batch: { label: 'GTIN', hint: 'The product\'s 14-digit GTIN; the lot below.',
    report: (c, lot) => '/v1/reports/batch/' + path(c) + '/' + path(lot) },
  trial: { label: 'Trial id', hint: 'As registered, e.g. PDG-CT-2026-01.',
    report: (c) => '/v1/reports/trial/' + path(c) },
};

function onReportKind() {
  const kind = reportKinds[$('report-kind').value];
  $('report-code-label').textContent = kind.label;
  $('report-code-hint').textContent = kind.hint;
  $('report-lot-box').hidden = $('report-kind').value !== 'batch';
}

async function openReport(event) {
  event.preventDefault();
  const kindName = $('report-kind').value;
  const kind = reportKinds[kindName];
  const code = cleanCode($('report-code').value);
  const lot = value('report-lot');
  $('report-error').textContent = '';
  $('report-summary').textContent = '';
  $('bundle-link').hidden = true;
  $('report-frame').hidden = true;
  if (!code) { $('report-error').textContent = 'Enter a ' + kind.label.toLowerCase() + '.'; return; }
  if (kindName === 'batch' && !lot) { $('report-error').textContent = 'Enter the lot.'; $('report-lot').focus(); return; }
  const url = kind.report(code, lot);
  // Asked as JSON first, so a refusal is shown as words rather than as a framed error.
  const r = await api('GET', url);
  if (!r.ok) {
    if (r.status !== 401) $('report-error').textContent = 'No report: ' + refusal(r);
    return;
  }
  if (r.data && r.data.verdict) $('report-summary').textContent = r.data.verdict + ': ' + (r.data.summary || '');
  const frame = $('report-frame');
  frame.src = url + (url.includes('?') ? '&' : '?') + 'format=html';
  frame.hidden = false;
  if (kind.bundle) {
    const link = $('bundle-link');
    link.href = kind.bundle(code);
    link.hidden = false;
  }
}

// The audit runs as a job on the node (POST /v1/reports/audit/jobs); the page polls its status
// and shows the entries checked of the total on the progress bar (indeterminate until the
// first count), then the result.
async function runAudit() {
  $('audit-run').disabled = true;
  $('audit-result').hidden = true;
  $('audit-error').textContent = '';
  const bar = $('audit-progress');
  bar.removeAttribute('value');
  $('audit-count').textContent = 'Running the audit…';
  $('audit-running').hidden = false;
  let failure = null;
  let status = null;
  const started = await api('POST', '/v1/reports/audit/jobs');
  if (!started.ok) failure = started;
  const where = started.ok ? '/v1/reports/audit/jobs/' + path(started.data.jobId) : '';
  while (!failure) {
    const r = await api('GET', where);
    if (!r.ok) { failure = r; break; }
    status = r.data;
    if (status.total > 0) {
      bar.max = status.total;
      bar.value = status.checked;
      $('audit-count').textContent = status.checked + ' of ' + status.total + ' entries checked…';
    }
    if (status.state === 'done' || status.state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  $('audit-running').hidden = true;
  $('audit-run').disabled = false;
  if (failure) { if (failure.status !== 401) $('audit-error').textContent = 'No audit: ' + refusal(failure); return; }
  if (status.state === 'failed') { $('audit-error').textContent = 'No audit: ' + status.error.message + ' (' + status.error.code + ')'; return; }
  const a = status.result;
  $('audit-verdict').textContent = a.verdict;
  $('audit-verdict').className = 'verdict small ' + (a.verdict === 'VERIFIED' ? 'ok' : 'bad');
  $('audit-summary').textContent = a.summary + (a.audit && a.audit.seconds ? ' (' + a.audit.seconds + ' s)' : '');
  fillTable('audit-checks', a.checks || [], ['id', 'result', 'detail']);
  $('audit-result').hidden = false;
}

// ---- Trials (sponsor and site) ---------------------------------------------------------------

function trialPath(suffix) { return '/v1/trials/' + path(value('trial-id')) + (suffix || ''); }

function needTrial(statusId) {
  if (value('trial-id')) return true;
  $(statusId).textContent = 'Enter the trial id at the top of the page first.';
  $('trial-id').focus();
  return false;
}

// The Part 11 signature manifestation every trial command carries.
function signature(statusId) {
  const name = value('sig-name');
  if (!name) {
    $(statusId).textContent = 'Enter your printed name under "Your signature" first.';
    $('sig-name').focus();
    return null;
  }
  localStorage.setItem('pedigree.signatureName', name);
  return { name, meaning: $('sig-meaning').value };
}

function short(hex) { return hex ? hex.slice(0, 12) + '…' : ''; }

async function showTrial(event) {
  if (event) event.preventDefault();
  $('trial-error').textContent = '';
  const r = await api('GET', trialPath());
  if (!r.ok) { $('trial-box').hidden = true; if (r.status !== 401) $('trial-error').textContent = 'No trial: ' + refusal(r); return; }
  const t = r.data;
  $('trial-name').textContent = t.trialId + ': ' + t.title;
  setText('trial-sponsor', t.sponsor);
  setText('trial-sites', (t.sites || []).join(', '));
  setText('trial-registry', t.registryId);
  const protocol = (t.protocols || []).at(-1);
  setText('trial-protocol', protocol ? 'version ' + protocol.version + ', sealed ' + protocol.time : 'not sealed');
  setText('trial-enrolled', String((t.enrolment && t.enrolment.count) || 0));
  const domains = t.domains || [];
  $('domains-empty').hidden = domains.length > 0;
  fillTable('trial-domains', domains, ['domain', 'leafCount', (d) => (d.lock || 'open').replace('_', ' '),
    (d) => { const s = (d.seals || []).at(-1); return s ? s.recordCount + ' records, root ' + short(s.root) + ', ' + s.time : 'not sealed'; },
    (d) => (d.redactions || []).length]);
  $('trial-box').hidden = false;
}

const datasetTypes = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' };
function datasetType(file) {
  const ext = file.name.split('.').pop().toLowerCase();
  return datasetTypes[ext] || (file.type === 'application/json' ? 'application/json' : 'text/csv');
}

async function upload(event) {
  event.preventDefault();
  const file = $('upload-file').files[0];
  const sig = needTrial('upload-status') && signature('upload-status');
  if (!sig || !file) return;
  const q = new URLSearchParams({ domain: value('upload-domain'), signatureName: sig.name, signatureMeaning: sig.meaning });
  if (value('upload-reason')) q.set('reason', value('upload-reason'));
  $('upload-status').textContent = 'Uploading ' + file.name + '…';
  const r = await api('POST', trialPath('/submissions?' + q), file, datasetType(file));
  if (report('upload-status', r, r.ok ? r.data.domain + ': ' + r.data.submitted + ' records submitted, ' +
      r.data.replaced + ' replaced, ' + r.data.unchanged + ' unchanged (ledger entries ' + r.data.indices.join(', ') + ').' : '')) {
    await showTrial();
  }
}

async function lock(event) {
  event.preventDefault();
  const sig = needTrial('lock-status') && signature('lock-status');
  if (!sig) return;
  const body = { domain: value('lock-domain'), action: $('lock-action').value, signature: sig };
  if (value('lock-reason')) body.reason = value('lock-reason');
  if (value('lock-approver')) body.approver = value('lock-approver');
  const r = await api('POST', trialPath('/locks'), body);
  if (report('lock-status', r, body.domain + ': ' + body.action.replace('_', ' ') + ' recorded (ledger entry ' + (r.data && r.data.index) + ').')) await showTrial();
}

async function seal(event) {
  event.preventDefault();
  const sig = needTrial('seal-status') && signature('seal-status');
  if (!sig) return;
  const domain = value('seal-domain');
  const r = await api('POST', trialPath('/seals?domain=' + path(domain)), { signature: sig });
  if (report('seal-status', r, r.ok ? domain + ' sealed: ' + r.data.recordCount + ' records, root ' + r.data.root + ' (ledger entry ' + r.data.index + ').' : '')) await showTrial();
}

async function checkCandidate(event) {
  event.preventDefault();
  const file = $('check-file').files[0];
  if (!needTrial('check-status') || !file) return;
  $('check-status').textContent = 'Comparing ' + file.name + ' with the seal…';
  const r = await api('POST', trialPath('/verify?domain=' + path(value('check-domain'))), file, datasetType(file));
  if (!r.ok) { report('check-status', r, ''); return; }
  const v = r.data;
  const words = v.recordsIdentical
    ? 'IDENTICAL to the seal: ' + v.candidateCount + ' records, root ' + short(v.sealRoot) + '.'
    : 'DIFFERS from the seal: ' + (v.changed || []).length + ' changed, ' + (v.added || []).length + ' added, ' +
      (v.deleted || []).length + ' deleted of ' + v.sealedCount + ' sealed records.';
  report('check-status', r, words);
  $('check-status').classList.toggle('error', !v.recordsIdentical);
}

async function disclose(event) {
  event.preventDefault();
  $('disclose-download').hidden = true;
  if (!needTrial('disclose-status')) return;
  const domain = value('disclose-domain');
  const q = new URLSearchParams({ domain, key: value('disclose-key') });
  const r = await api('GET', trialPath('/disclosures?' + q));
  if (!report('disclose-status', r, 'Disclosure of ' + value('disclose-key') + ' made.')) return;
  // The node's bytes as they came: the file is canonical JSON (RFC 8785), not to be re-serialised.
  offerDownload($('disclose-download'), r.text, 'application/json',
    'disclosure-' + value('trial-id') + '-' + domain + '.json');
}

async function consent(event) {
  event.preventDefault();
  const sig = needTrial('consent-status') && signature('consent-status');
  if (!sig) return;
  const body = { subjectRef: value('consent-subject'), icfVersion: value('consent-icf'), consentTime: value('consent-time'),
    scopesGranted: list('consent-granted'), scopesDeclined: list('consent-declined'), signature: sig };
  const r = await api('POST', trialPath('/consents'), body);
  report('consent-status', r, 'Consent recorded (ledger entry ' + (r.data && r.data.index) + ').');
}

async function withdraw(event) {
  event.preventDefault();
  const sig = needTrial('withdraw-status') && signature('withdraw-status');
  if (!sig) return;
  const body = { subjectRef: value('withdraw-subject'), withdrawalTime: value('withdraw-time'),
    dataChoice: $('withdraw-choice').value, signature: sig };
  const r = await api('POST', trialPath('/withdrawals'), body);
  report('withdraw-status', r, 'Withdrawal recorded (ledger entry ' + (r.data && r.data.index) + ').');
}

async function loadGrants() {
  if (!needTrial('grants-status')) return;
  const r = await api('GET', trialPath('/grants'));
  if (!r.ok) { report('grants-status', r, ''); return; }
  const grants = r.data.grants || [];
  $('grants-status').textContent = grants.length ? '' : 'No grants in this trial.';
  const body = $('grants').querySelector('tbody');
  body.replaceChildren();
  for (const g of grants) {
    const tr = document.createElement('tr');
    cell(tr, g.grantId);
    cell(tr, g.grantee);
    cell(tr, g.purpose);
    cell(tr, (g.domains || []).join(', '));
    cell(tr, g.revoked ? 'revoked ' + g.revoked.time : (g.validNow ? 'yes, ' : 'no, ') + g.start + ' to ' + g.expiry);
    cell(tr, Array.isArray(g.accesses) ? g.accesses.length : g.accesses);
    const td = cell(tr, '');
    td.textContent = '';
    if (!g.revoked) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'quiet';
      button.textContent = 'Revoke';
      button.setAttribute('aria-label', 'Revoke grant ' + g.grantId);
      button.addEventListener('click', () => revoke(g.grantId));
      td.append(button);
    }
    body.append(tr);
  }
  $('grants').hidden = grants.length === 0;
}

async function grant(event) {
  event.preventDefault();
  const sig = needTrial('grant-status') && signature('grant-status');
  if (!sig) return;
  const body = { grantId: value('grant-id'), grantee: value('grant-grantee'), purpose: $('grant-purpose').value,
    domains: list('grant-domains'), start: value('grant-start'), expiry: value('grant-expiry'), signature: sig };
  const r = await api('POST', trialPath('/grants'), body);
  if (report('grant-status', r, 'Grant ' + body.grantId + ' recorded (ledger entry ' + (r.data && r.data.index) + ').')) await loadGrants();
}

async function revoke(grantId) {
  const sig = signature('grants-status');
  if (!sig) return;
  const r = await api('POST', trialPath('/grants/' + path(grantId) + '/revoke'), { signature: sig });
  if (report('grants-status', r, 'Grant ' + grantId + ' revoked (ledger entry ' + (r.data && r.data.index) + ').')) {
    const status = $('grants-status').textContent;
    await loadGrants();
    $('grants-status').textContent = status;
  }
}

// The access record (sponsor): trial.access events, newest first, a page at a time.
let accessesNext = null;

async function loadAccesses(older) {
  if (!needTrial('accesses-status')) return;
  const q = new URLSearchParams({ limit: '50' });
  if (older && accessesNext !== null) q.set('before', String(accessesNext));
  const r = await api('GET', trialPath('/accesses?' + q));
  if (!r.ok) { report('accesses-status', r, ''); return; }
  const rows = r.data.accesses || [];
  const body = $('accesses').querySelector('tbody');
  if (!older) body.replaceChildren();
  for (const a of rows) {
    const tr = document.createElement('tr');
    cell(tr, a.time);
    cell(tr, a.reader);
    cell(tr, a.grantId);
    cell(tr, a.domain);
    cell(tr, a.leafCount);
    cell(tr, a.purpose);
    cell(tr, a.outcome + (a.refusal ? ' (' + a.refusal + ')' : ''));
    body.append(tr);
  }
  const shown = body.children.length;
  $('accesses-status').classList.remove('error');
  $('accesses-status').textContent = shown ? shown + ' recorded access' + (shown === 1 ? '' : 'es') + ' shown.' : 'No access recorded in this trial.';
  accessesNext = r.data.next === undefined ? null : r.data.next;
  $('accesses').hidden = shown === 0;
  $('accesses-more').hidden = accessesNext === null;
}

// ---- Participants' receipts -------------------------------------------------------------------

// A receipt checked by this node (POST /v1/receipts/verify, public). Sent without the
// session cookie: the answer is the same for anyone.
async function checkReceiptText(text) {
  let res;
  try {
    res = await fetch('/v1/receipts/verify', { method: 'POST', credentials: 'omit',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: text });
  } catch (e) {
    return { ok: false, status: 0, data: { error: { code: 'network', message: 'the node did not answer: ' + e.message } } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON: errorOf says the status */ }
  return { ok: res.ok, status: res.status, data };
}

// What a code of the receipt check means, in words a participant can act on.
const receiptWords = {
  'receipt.json': 'The file is not a receipt: it is not valid JSON.',
  'receipt.format': 'The file is not a participant receipt.',
  'receipt.missing_field': 'The file is not a complete receipt: a part is missing.',
  'receipt.bad_field': 'The file is not a well-formed receipt.',
  'bundle.incomplete': 'An entry the log lists about you is missing from the file: something was removed.',
  'bundle.unlisted_entry': 'The file holds an entry the log does not list about you: something was added.',
  'entry.bad_signature': 'An entry was changed after it was signed.',
  'receipt.not_about_subject': 'An entry in the file is about someone else.',
  'receipt.wrong_trial': 'An entry in the file is about another trial.',
  'note.no_verified_signature': 'The file was not made by this node\'s log.',
  'checkpoint.quorum': 'The witnesses this node relies on have not confirmed the log\'s state in the file yet.',
  'trial.receipt_subject_unknown': 'No subject of this trial has that secret: check it character by character against the participant\'s copy.',
  'trial.bad_subject_secret': 'That is no reference secret: it must be 1 to 1024 characters.',
};
function inWords(e) {
  const words = receiptWords[e.code] || (e.code.startsWith('merkle.') ? 'An entry is not in the log as the file claims.' : e.message);
  return words + ' (' + e.code + ')';
}

async function checkReceipt(event) {
  event.preventDefault();
  const file = $('receipt-file').files[0];
  $('receipt-result').hidden = true;
  if (!file) { $('receipt-check-status').textContent = 'Choose the receipt file first.'; return; }
  $('receipt-check-status').textContent = 'Checking ' + file.name + '…';
  const r = await checkReceiptText(await file.text());
  $('receipt-check-status').textContent = '';
  const verified = r.ok && r.data.verified;
  const box = $('receipt-result');
  box.className = 'verdict-box ' + (verified ? 'ok' : 'bad');
  $('receipt-verdict').textContent = verified ? 'VERIFIED' : 'NOT VERIFIED';
  if (!r.ok) $('receipt-reason').textContent = inWords(errorOf(r));
  else if (!verified) $('receipt-reason').textContent = (r.data.failure ? inWords(r.data.failure) + ' ' : '') + r.data.summary;
  else $('receipt-reason').textContent = r.data.summary + ' Trial ' + r.data.trialId + '.';
  const accesses = verified ? r.data.accesses || [] : [];
  fillTable('receipt-access-list', accesses, ['time', (a) => a.readerName || a.reader, 'purpose', 'grantId', 'domain',
    'subjectRecords', 'outcome']);
  $('receipt-access-list').hidden = accesses.length === 0;
  $('receipt-no-access').hidden = !verified || accesses.length > 0;
  // A broken receipt's accesses are not to be relied on: none are shown.
  $('receipt-access-box').hidden = !verified;
  box.hidden = false;
}

// The site gets a participant's receipt with the secret in the body; the file is offered as
// the node's bytes (canonical JSON, not to be re-serialised), summarised from this node's check.
async function getReceipt(event) {
  event.preventDefault();
  const secret = $('receipt-secret').value;
  // Cleared at once: the secret is the participant's credential and stays in no field.
  $('receipt-secret').value = '';
  $('receipt-box').hidden = true;
  $('receipt-download').hidden = true;
  if (!needTrial('receipt-status')) return;
  if (!secret) { $('receipt-status').textContent = 'Enter the subject\'s reference secret.'; $('receipt-secret').focus(); return; }
  $('receipt-status').classList.remove('error');
  $('receipt-status').textContent = 'Gathering the receipt…';
  const r = await api('POST', trialPath('/receipts'), { subjectSecret: secret });
  if (!r.ok) {
    if (r.status === 401) return;
    $('receipt-status').textContent = 'No receipt: ' + inWords(errorOf(r));
    $('receipt-status').classList.add('error');
    return;
  }
  const trial = value('trial-id');
  offerDownload($('receipt-download'), r.text, 'application/json', 'receipt-' + trial.replace(/[^A-Za-z0-9-]/g, '_') + '.json');
  const c = await checkReceiptText(r.text);
  const events = (c.ok && c.data.report && c.data.report.events) || [];
  const withdrawal = events.find((e) => e.kind === 'trial.withdraw');
  setText('receipt-consents', String(events.filter((e) => e.kind === 'trial.consent').length));
  setText('receipt-withdrawal', withdrawal ? withdrawal.withdrawalTime + ', data: ' + withdrawal.dataChoice : 'none');
  setText('receipt-accesses', c.ok ? String(c.data.accesses.length) : '');
  const log = c.ok && c.data.report && c.data.report.log;
  setText('receipt-checkpoint', log ? 'log size ' + log.treeSize : '');
  setText('receipt-checked', c.ok ? c.data.verdict : inWords(errorOf(c)));
  $('receipt-status').textContent = 'Receipt of trial ' + trial + ' ready to download.';
  $('receipt-box').hidden = false;
}

// ---- Start ------------------------------------------------------------------------------

async function start() {
  $('signin-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('verify-form').addEventListener('submit', (e) => { e.preventDefault(); verify($('pack-code').value); });
  $('pack-code').addEventListener('keydown', onPackCodeKey);
  $('photo').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) verifyImage(f); e.target.value = ''; });
  $('camera-start').addEventListener('click', startCamera);
  $('camera-shoot').addEventListener('click', shootCamera);
  $('dispense').addEventListener('click', () => recordAction('/v1/dispense', 'Dispense'));
  $('undo').addEventListener('click', () => recordAction('/v1/undo', 'Undo'));
  $('report-form').addEventListener('submit', openReport);
  $('report-kind').addEventListener('change', onReportKind);
  $('audit-run').addEventListener('click', runAudit);
  $('batch-form').addEventListener('submit', registerBatch);
  $('commission-form').addEventListener('submit', commission);
  $('labels-print').addEventListener('click', showLabels);
  $('labels-print-again').addEventListener('click', () => window.print());
  $('labels-previous').addEventListener('click', () => showLabelSheet(labelSheet - 1));
  $('labels-next').addEventListener('click', () => showLabelSheet(labelSheet + 1));
  $('labels-back').addEventListener('click', () => show('manufacturer'));
  $('recall-form').addEventListener('submit', recall);
  $('reach-show').addEventListener('click', reachOnly);
  $('trial-form').addEventListener('submit', showTrial);
  $('upload-form').addEventListener('submit', upload);
  $('lock-form').addEventListener('submit', lock);
  $('seal-form').addEventListener('submit', seal);
  $('check-form').addEventListener('submit', checkCandidate);
  $('disclose-form').addEventListener('submit', disclose);
  $('consent-form').addEventListener('submit', consent);
  $('withdraw-form').addEventListener('submit', withdraw);
  $('grants-load').addEventListener('click', loadGrants);
  $('grant-form').addEventListener('submit', grant);
  $('accesses-load').addEventListener('click', () => loadAccesses(false));
  $('accesses-more').addEventListener('click', () => loadAccesses(true));
  $('receipt-form').addEventListener('submit', getReceipt);
  $('receipt-check-form').addEventListener('submit', checkReceipt);
  $('location').value = localStorage.getItem('pedigree.location') || '';
  window.addEventListener('hashchange', route);
  // A reload keeps the session (the cookie) and asks for its CSRF token again.
  const r = await fetch('/v1/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.ok) signedIn(await r.json());
  else signedOut('');
}

document.addEventListener('DOMContentLoaded', start);
