// The pedigree web app (docs/web.md): sign-in, the pharmacy's verify / dispense / undo and
// the regulator's pack report and bundle. Every call goes to this node's API with the
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
  return { ok: res.ok, status: res.status, data };
}

function errorOf(r) {
  if (r.data && r.data.error) return r.data.error;
  return { code: 'http.' + r.status, message: 'the node answered HTTP ' + r.status };
}

// ---- Views ------------------------------------------------------------------------------

const views = ['signin', 'pharmacy', 'regulator'];

function show(view) {
  for (const v of views) $(v + '-view').hidden = v !== view;
  for (const v of ['pharmacy', 'regulator']) {
    const link = $('nav-' + v);
    if (v === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const heading = $(view + '-title');
  if (heading) heading.focus();
  const first = { signin: 'token', pharmacy: 'pack-code', regulator: 'report-code' }[view];
  if (first) $(first).focus();
}

function defaultView() {
  const roles = (state.session && state.session.roles) || [];
  if (roles.includes('regulator') && !roles.includes('dispenser')) return 'regulator';
  return 'pharmacy';
}

function route() {
  if (!state.session) { show('signin'); return; }
  const wanted = location.hash.replace('#', '');
  show(wanted === 'pharmacy' || wanted === 'regulator' ? wanted : defaultView());
}

function signedIn(session) {
  state.session = session;
  state.csrf = session.csrfToken || '';
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('who').hidden = false;
  $('who').textContent = session.org + ' (' + session.roles.join(', ') + ')';
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
  $('signin-error').textContent = message || '';
  show('signin');
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

// ---- Regulator --------------------------------------------------------------------------

async function openReport(event) {
  event.preventDefault();
  const code = cleanCode($('report-code').value);
  $('report-error').textContent = '';
  $('bundle-link').hidden = true;
  $('report-frame').hidden = true;
  if (!code) { $('report-error').textContent = 'Enter a pack code.'; return; }
  const query = 'code=' + encodeURIComponent(code);
  // Asked as JSON first, so a refusal is shown as words rather than as a framed error.
  const r = await api('GET', '/v1/reports/pack?' + query);
  if (!r.ok) {
    if (r.status !== 401) $('report-error').textContent = 'No report: ' + errorOf(r).message + ' (' + errorOf(r).code + ')';
    return;
  }
  const frame = $('report-frame');
  frame.src = '/v1/reports/pack?format=html&' + query;
  frame.hidden = false;
  const link = $('bundle-link');
  link.href = '/v1/bundles/pack?' + query;
  link.hidden = false;
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
  $('location').value = localStorage.getItem('pedigree.location') || '';
  window.addEventListener('hashchange', route);
  // A reload keeps the session (the cookie) and asks for its CSRF token again.
  const r = await fetch('/v1/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.ok) signedIn(await r.json());
  else signedOut('');
}

document.addEventListener('DOMContentLoaded', start);
