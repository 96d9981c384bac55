// Portrait playground page. Plain JS, no build step: it talks to the JSON API of src/playground/server.ts and shows
// what the server says. Every sentence a user reads about a problem comes from the server (the chat bots' own
// sentences); user-supplied text is only ever put into the page as text, never as HTML.

const $ = (id) => document.getElementById(id);

const state = {
  catalogue: null,
  /** { local, file, url, id, status: 'uploading' | 'ready', upload: Promise } in the order picked. */
  selfies: [],
  /** Job views by id, and their ids newest first. */
  jobs: new Map(),
  order: [],
  current: null,
  variant: 0,
  events: [],
  streams: new Map(),
};

let nextLocal = 1;

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers || {}) } };
  if (init.method && init.method !== 'GET') init.headers['x-playground'] = '1';
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    const err = new Error('The playground is not answering. Is `portrait playground` still running?');
    err.refusal = { code: 'offline', sentence: err.message };
    throw err;
  }
  const type = res.headers.get('content-type') || '';
  const body = type.includes('application/json') ? await res.json() : { text: await res.text() };
  if (!res.ok) {
    const sentence = body.refusal?.sentence || body.text?.trim() || `The playground answered ${res.status}.`;
    const err = new Error(sentence);
    err.refusal = body.refusal || { code: `http.${res.status}`, sentence };
    throw err;
  }
  return body;
}

// ---------------------------------------------------------------- refusals

function showRefusal(sentence) {
  const box = $('refusal');
  box.textContent = sentence;
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

/** On a narrow screen the result panel sits under the form: bring it into view when a portrait starts. */
function revealStage() {
  const stage = document.querySelector('.stage');
  if (stage.getBoundingClientRect().top > window.innerHeight * 0.6) {
    stage.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }
}

function clearRefusal() {
  $('refusal').hidden = true;
  $('refusal').textContent = '';
}

// ---------------------------------------------------------------- selfies

function addFiles(fileList) {
  const files = [...fileList];
  if (files.length === 0) return;
  selfieMessage('');
  const max = state.catalogue?.limits.maxSelfies ?? 4;
  const room = max - state.selfies.length;
  if (files.length > room) selfieMessage(state.catalogue.sentences.tooManySelfies);
  const taken = files.slice(0, Math.max(0, room));
  const total = state.selfies.length + taken.length;
  for (const file of taken) {
    const selfie = { local: nextLocal++, file, url: URL.createObjectURL(file), id: null, status: 'uploading' };
    state.selfies.push(selfie);
    selfie.upload = upload(selfie, total > 1 ? state.selfies.length : undefined);
  }
  renderSelfies();
}

async function upload(selfie, number) {
  try {
    const query = number === undefined ? '' : `?selfie=${number}`;
    const r = await api(`/api/selfies${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: selfie.file,
    });
    selfie.id = r.id;
    selfie.status = 'ready';
  } catch (err) {
    removeSelfie(selfie.local);
    selfieMessage(err.message);
  }
  renderSelfies();
}

/** Problems with the photos are told under them, where the eye is after picking (on a phone the result is far). */
function selfieMessage(sentence) {
  const msg = $('selfies-msg');
  msg.textContent = sentence || '';
  msg.className = sentence ? 'field-msg bad' : 'field-msg';
}

function removeSelfie(local) {
  const i = state.selfies.findIndex((s) => s.local === local);
  if (i < 0) return;
  URL.revokeObjectURL(state.selfies[i].url);
  state.selfies.splice(i, 1);
  renderSelfies();
}

function renderSelfies() {
  const list = $('selfies');
  list.replaceChildren(
    ...state.selfies.map((s, i) => {
      const li = document.createElement('li');
      li.className = `selfie ${s.status}`;
      const img = document.createElement('img');
      img.src = s.url;
      img.alt = `Selfie ${i + 1}${s.status === 'uploading' ? ' (uploading)' : ''}`;
      const num = document.createElement('span');
      num.className = 'num';
      num.textContent = String(i + 1);
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'remove';
      remove.textContent = '×';
      remove.setAttribute('aria-label', `Remove selfie ${i + 1}`);
      remove.addEventListener('click', () => removeSelfie(s.local));
      li.append(img, num, remove);
      return li;
    }),
  );
  const max = state.catalogue?.limits.maxSelfies ?? 4;
  $('selfie-count').textContent = state.selfies.length ? `${state.selfies.length} of ${max}` : '';
}

/** Uploads the files again (the playground restarted, or the blobs expired) and returns their new ids. */
async function reupload() {
  const total = state.selfies.length;
  for (const [i, s] of state.selfies.entries()) {
    s.status = 'uploading';
    s.upload = upload(s, total > 1 ? i + 1 : undefined);
  }
  renderSelfies();
  await Promise.all(state.selfies.map((s) => s.upload));
}

function setupDrop() {
  const drop = $('drop');
  $('files').addEventListener('change', (e) => {
    addFiles(e.target.files);
    e.target.value = '';
  });
  // Drops anywhere on the page count: a photo dropped a little off the box must not open in the tab instead.
  let depth = 0;
  window.addEventListener('dragenter', (e) => {
    if (![...(e.dataTransfer?.types || [])].includes('Files')) return;
    depth++;
    drop.classList.add('over');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove('over');
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    if (e.dataTransfer?.files?.length) addFiles(e.dataTransfer.files);
  });
}

// ---------------------------------------------------------------- options

/**
 * Preset buttons under a field. A pose or a lighting is one preset; a style combines up to one look, one colour
 * treatment and one backdrop, so its buttons add and remove parts ("oil paint, studio grey").
 */
function chips(containerId, inputId, presets, combine = false) {
  const box = $(containerId);
  const input = $(inputId);
  const parts = () =>
    input.value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  box.replaceChildren(
    ...presets.map((p) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.textContent = p.name;
      b.title = p.description;
      b.addEventListener('click', () => {
        if (input.disabled) return;
        if (!combine) input.value = p.name;
        else {
          const now = parts();
          // Another preset of the same role is swapped out: one look, one colour, one backdrop.
          const sameRole = new Set(presets.filter((q) => q.role === p.role).map((q) => q.name));
          input.value = now.includes(p.name)
            ? now.filter((x) => x !== p.name).join(', ')
            : [...now.filter((x) => !sameRole.has(x)), p.name].join(', ');
        }
        input.dispatchEvent(new Event('input'));
      });
      return b;
    }),
  );
  const mark = () => {
    const chosen = combine ? parts().map((x) => x.toLowerCase()) : [input.value.trim().toLowerCase()];
    for (const b of box.children) b.setAttribute('aria-pressed', String(chosen.includes(b.textContent)));
  };
  input.addEventListener('input', mark);
  mark();
}

let checkTimer;
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(checkFields, 350);
}

/** Asks the server whether the pose and lighting parse, so a typo is caught with its suggestion before a job. */
async function checkFields() {
  const params = new URLSearchParams({ pose: $('pose').value, lighting: $('lighting').value, style: $('style').value });
  const engine = selectedEvent()?.theme.engine;
  if (engine) params.set('engine', engine);
  try {
    const r = await api(`/api/check?${params}`);
    for (const field of ['pose', 'lighting', 'style']) fieldMessage(field, r[field]?.sentence);
  } catch {
    // The submit reports it.
  }
}

function fieldMessage(field, sentence) {
  const msg = $(`${field}-msg`);
  msg.textContent = sentence || '';
  msg.className = sentence ? 'field-msg bad' : 'field-msg';
  $(field).setAttribute('aria-invalid', sentence ? 'true' : 'false');
}

function selectedEvent() {
  const id = $('event').value;
  return id ? state.events.find((e) => e.id === id) : undefined;
}

function applyEvent() {
  const event = selectedEvent();
  const note = $('event-note');
  for (const f of ['pose', 'lighting', 'style']) $(f).disabled = Boolean(event);
  for (const chip of document.querySelectorAll('.chip')) chip.disabled = Boolean(event);
  if (!event) {
    note.hidden = true;
    return;
  }
  $('pose').value = event.theme.pose;
  $('lighting').value = event.theme.lighting;
  $('style').value = event.theme.style;
  for (const f of ['pose', 'lighting', 'style']) $(f).dispatchEvent(new Event('input'));
  const when =
    event.status === 'draft'
      ? `draft, not open yet${event.startsAt > Date.now() ? `, starts ${new Date(event.startsAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}` : ''}`
      : event.status;
  note.textContent = `Previewing '${event.name}' (${event.platform}, ${when}): ${event.theme.description}. Members will get exactly this.`;
  note.hidden = false;
}

async function applyTheme() {
  const text = $('theme-text').value.trim();
  const msg = $('event-note');
  if (!text) return;
  try {
    const r = await api(`/api/theme?${new URLSearchParams({ text })}`);
    $('event').value = '';
    applyEvent();
    if (r.pose) $('pose').value = r.pose;
    if (r.lighting) $('lighting').value = r.lighting;
    if (r.style !== undefined) $('style').value = r.style;
    if (r.variations) $('variations').value = String(r.variations);
    if (r.seed !== undefined) $('seed').value = String(r.seed);
    for (const f of ['pose', 'lighting', 'style']) $(f).dispatchEvent(new Event('input'));
    msg.textContent = 'Theme applied to the fields below.';
    msg.className = 'muted small';
  } catch (err) {
    msg.textContent = err.message;
    msg.className = 'field-msg bad';
  }
  msg.hidden = false;
}

// ---------------------------------------------------------------- jobs

function formRecipe() {
  return {
    pose: $('pose').value,
    lighting: $('lighting').value,
    style: $('style').value,
    seed: $('seed').value === '' ? undefined : $('seed').value,
    variations: Number($('variations').value),
    event: $('event').value || undefined,
  };
}

async function make(recipe, selfieIds) {
  clearRefusal();
  let ids = selfieIds;
  if (!ids) {
    if (state.selfies.length === 0) return selfieMessage(state.catalogue.sentences.noSelfie);
    await Promise.all(state.selfies.map((s) => s.upload));
    if (state.selfies.length === 0) return;
    ids = state.selfies.map((s) => s.id);
  }
  const button = $('make');
  button.disabled = true;
  const body = { ...recipe, selfies: ids, requestId: crypto.randomUUID() };
  try {
    let job;
    try {
      job = await api('/api/portraits', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      // The playground restarted or the selfies expired: send the photos again, once, if this page still has them.
      if (err.refusal?.code !== 'job.expired' || selfieIds || state.selfies.length === 0) throw err;
      await reupload();
      body.selfies = state.selfies.map((s) => s.id);
      job = await api('/api/portraits', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    }
    track(job, true);
    revealStage();
  } catch (err) {
    showRefusal(err.message);
  } finally {
    button.disabled = false;
  }
}

function track(job, show) {
  if (!state.jobs.has(job.id)) state.order.unshift(job.id);
  state.jobs.set(job.id, job);
  if (show) {
    state.current = job.id;
    state.variant = 0;
  }
  if (job.status !== 'done' && job.status !== 'failed') watch(job.id);
  render();
}

function watch(id) {
  if (state.streams.has(id)) return;
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  state.streams.set(id, source);
  source.addEventListener('job', (e) => {
    const job = JSON.parse(e.data);
    state.jobs.set(job.id, job);
    if (job.status === 'done' || job.status === 'failed') {
      source.close();
      state.streams.delete(id);
    }
    render();
  });
  source.onerror = () => {
    const job = state.jobs.get(id);
    // The server ends the stream after the answer; anything else reconnects on its own.
    if (!job || job.status === 'done' || job.status === 'failed' || source.readyState === EventSource.CLOSED) {
      source.close();
      state.streams.delete(id);
    }
  };
}

// ---------------------------------------------------------------- rendering

function render() {
  const job = state.current ? state.jobs.get(state.current) : undefined;
  $('empty').hidden = Boolean(job);
  $('job').hidden = !job || job.status === 'failed';
  if (job?.status === 'failed') showRefusal(job.refusal.sentence);
  if (job && job.status !== 'failed') renderJob(job);
  if (job?.status !== 'done') $('debug').hidden = true;
  renderHistory();
}

function renderJob(job) {
  const running = job.status === 'queued' || job.status === 'running';
  $('progress').hidden = !running;
  $('result').hidden = job.status !== 'done';
  if (running) {
    $('progress-text').textContent = job.progress || 'Starting now';
    const order = state.catalogue.stages;
    const last = job.stages.at(-1);
    const at = last ? order.indexOf(last.stage) + 1 : 0;
    $('bar-fill').style.width = `${Math.max(4, Math.round((at / order.length) * 100))}%`;
    $('stages').replaceChildren(
      ...job.stages.map((s, i) => {
        const li = document.createElement('li');
        li.textContent = s.label;
        if (i === job.stages.length - 1) li.className = 'current';
        return li;
      }),
    );
    $('preview').hidden = !job.preview;
    if (job.preview) $('preview').src = job.preview;
    $('cancel').onclick = () =>
      api(`/api/jobs/${encodeURIComponent(job.id)}/cancel`, { method: 'POST' }).catch((e) => showRefusal(e.message));
    return;
  }
  const r = job.result;
  const i = Math.min(state.variant, r.images.length - 1);
  const img = $('result-img');
  if (img.getAttribute('src') !== r.images[i]) img.src = r.images[i];
  img.alt = r.alt;
  img.width = r.width;
  img.height = r.height;
  const frame = $('frame');
  frame.classList.toggle('event', Boolean(job.recipe.event?.frameColour));
  frame.style.setProperty('--frame', job.recipe.event?.frameColour || '');
  // "3.6 s" must not break between number and unit on a phone.
  const caption = r.captions[i].replace(/(\d) (s|min)\b/g, '$1\u00a0$2');
  $('caption').textContent = (job.recipe.event ? `Preview of '${job.recipe.event.name}' · ` : '') + caption;
  $('download').href = r.images[i];
  $('download').download = `portrait-${r.seed}${r.images.length > 1 ? `-${i + 1}` : ''}.${r.format}`;
  const variants = $('variants');
  variants.hidden = r.images.length < 2;
  variants.replaceChildren(
    ...r.images.map((url, k) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('aria-pressed', String(k === i));
      b.setAttribute('aria-label', `Variation ${k + 1}`);
      const t = document.createElement('img');
      t.src = url;
      t.alt = '';
      b.append(t);
      b.addEventListener('click', () => {
        state.variant = k;
        render();
      });
      return b;
    }),
  );
  // Redo the job's own recipe (an event preview stays one), not what the form says now.
  const redo = { ...job.recipe, event: job.recipe.event?.id };
  $('reroll').onclick = () => make({ ...redo, seed: undefined }, job.recipe.selfies);
  $('more').onclick = () => make({ ...redo, variations: state.catalogue.limits.maxVariations }, job.recipe.selfies);
  $('debug').hidden = !r.debugSheet;
  if (r.debugSheet && $('debug-img').getAttribute('src') !== r.debugSheet) {
    $('debug-img').src = r.debugSheet;
    $('debug-link').href = r.debugSheet;
  }
  const facts = [
    ['Engine', r.engine],
    ['Seed', String(r.seed)],
    ['Size', `${r.width} × ${r.height} ${r.format.toUpperCase()}`],
    ['Faces found', r.facesPerSelfie.map((n, k) => `selfie ${k + 1}: ${n}`).join(', ')],
    ...Object.entries(r.timings).map(([k, v]) => [`${k} (ms)`, String(v)]),
    ...Object.entries(r.report).map(([k, v]) => [
      k,
      typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v),
    ]),
  ];
  $('facts').replaceChildren(
    ...facts.map(([k, v]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.textContent = k;
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(th, td);
      return tr;
    }),
  );
}

function renderHistory() {
  $('history-box').hidden = state.order.length === 0;
  $('history').replaceChildren(
    ...state.order.map((id, n) => {
      const job = state.jobs.get(id);
      const li = document.createElement('li');
      li.className = job.status;
      const b = document.createElement('button');
      b.type = 'button';
      if (id === state.current) b.setAttribute('aria-current', 'true');
      const label = `${job.recipe.pose}, ${job.recipe.lighting}`;
      if (job.status === 'done') {
        const img = document.createElement('img');
        img.src = job.result.images[0];
        img.alt = '';
        b.append(img);
      } else {
        const s = document.createElement('span');
        s.className = 'state';
        s.textContent = job.status === 'failed' ? '⚠ refused' : job.status === 'queued' ? 'queued' : 'working…';
        b.append(s);
      }
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = label;
      b.append(badge);
      b.title = `#${state.order.length - n}: ${label}${job.recipe.style ? `, ${job.recipe.style}` : ''}, seed ${job.recipe.seed}`;
      b.addEventListener('click', () => {
        state.current = id;
        state.variant = 0;
        clearRefusal();
        render();
      });
      li.append(b);
      return li;
    }),
  );
}

// ---------------------------------------------------------------- start

async function start() {
  setupDrop();
  const catalogue = await api('/api/catalogue');
  state.catalogue = catalogue;
  $('engine-note').textContent = ` (engine: ${catalogue.engine})`;
  $('selfie-limits').textContent =
    `Up to ${catalogue.limits.maxSelfies} photos of the same person, each under ${catalogue.limits.maxInputSize}.`;
  chips('pose-chips', 'pose', catalogue.poses);
  chips('lighting-chips', 'lighting', catalogue.lightings);
  $('style-list').replaceChildren(
    ...catalogue.styles.map((s) => {
      const o = document.createElement('option');
      o.value = s.name;
      if (s.description) o.label = s.description;
      return o;
    }),
  );
  if (catalogue.styleUsed) chips('style-chips', 'style', catalogue.styles, true);
  $('style-hint').textContent = catalogue.styleUsed
    ? catalogue.styleHint
    : `The ${catalogue.engine} engine on this server only crops your photo and does not use the style.`;
  $('limits').replaceChildren(...catalogue.limitLines.map(li));
  $('privacy').replaceChildren(...catalogue.privacyLines.map(li));
  for (const f of ['pose', 'lighting', 'style']) $(f).addEventListener('input', scheduleCheck);

  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    make(formRecipe());
  });
  $('event').addEventListener('change', applyEvent);
  $('theme-apply').addEventListener('click', applyTheme);
  $('theme-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      applyTheme();
    }
  });
  $('forget').addEventListener('click', forget);

  if (catalogue.events) {
    $('event-box').hidden = false;
    try {
      state.events = await api('/api/events');
    } catch {
      state.events = [];
    }
    for (const e of state.events) {
      const o = document.createElement('option');
      o.value = e.id;
      o.textContent = `${e.name} (${e.status})`;
      $('event').append(o);
    }
  }
  // A reload keeps this session's earlier portraits.
  const session = await api('/api/session');
  for (const job of session.jobs) track(job, false);
  if (session.jobs.length) state.current = session.jobs.at(-1).id;
  render();
}

function li(text) {
  const el = document.createElement('li');
  el.textContent = text;
  return el;
}

async function forget() {
  const msg = $('forget-msg');
  try {
    const r = await api('/api/forget', { method: 'POST' });
    for (const s of state.streams.values()) s.close();
    state.streams.clear();
    state.jobs.clear();
    state.order = [];
    state.current = null;
    for (const s of state.selfies) URL.revokeObjectURL(s.url);
    state.selfies = [];
    renderSelfies();
    render();
    msg.textContent = `Deleted: ${r.removed} stored ${r.removed === 1 ? 'item' : 'items'} (selfies, portraits and job records).`;
  } catch (err) {
    msg.textContent = err.message;
  }
}

start().catch((err) => showRefusal(err.message));
