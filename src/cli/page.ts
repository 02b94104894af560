/**
 * The local server's web page (`GET /`): the workflows and their status, live; a form that starts
 * one; a workflow's steps as a timeline with attempts and durations, its events as they happen,
 * its artifacts and report; approve, reject and cancel. Self-contained: the HTML here, its script
 * at `/page.js` and its style at `/page.css` (no CDN, no build step), allowed by a Content
 * Security Policy that allows nothing else. It reads the same HTTP API as any client, and the
 * server-sent events of `event-stream.ts`.
 */

/** What the page is told about the server (embedded as JSON, read by its script). */
export interface PageConfig {
  /** The workflow the server serves. */
  readonly workflow: string;
  /** Its steps, in order (names). */
  readonly steps: readonly string[];
  /** An input for the start form. */
  readonly exampleInput: Record<string, unknown>;
  /** Whether the workflow takes a `topic` (the form then has a field for it). */
  readonly topicField: boolean;
  /** The `event:` names the streams send. */
  readonly eventNames: readonly string[];
}

/** The page's HTML. */
export function pageHtml(config: PageConfig): string {
  // JSON inside a <script> element: `<` escaped so that no text of it can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const title = `${escapeHtml(config.workflow)} · cdk-durable-agents local server`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/page.css">
<script type="application/json" id="page-config">${json}</script>
<script src="/page.js" defer></script>
</head>
<body>
<a class="skip" href="#detail">Skip to the selected workflow</a>
<header>
  <h1>cdk-durable-agents <span class="muted">local server</span></h1>
  <p class="meta">workflow <strong id="workflow-name">${escapeHtml(config.workflow)}</strong>
    <span class="steps">${config.steps.map(escapeHtml).join(' &rarr; ')}</span>
    <span id="live" class="live" role="status" aria-live="polite">connecting&hellip;</span></p>
</header>
<main>
  <div class="column">
    <section aria-labelledby="start-title" class="card">
      <h2 id="start-title">Start a workflow</h2>
      <form id="start-form" novalidate>
        <div id="topic-field">
          <label for="topic">Topic</label>
          <input id="topic" name="topic" type="text" autocomplete="off" placeholder="durable execution for AI agents">
        </div>
        <label for="input-json">Input (JSON object; a topic given above is added as <code>topic</code>)</label>
        <textarea id="input-json" name="input" rows="5" spellcheck="false"></textarea>
        <button type="submit" id="start-button">Start workflow</button>
        <p id="start-message" class="message" role="status" aria-live="polite"></p>
      </form>
    </section>
    <section aria-labelledby="list-title" class="card">
      <h2 id="list-title">Workflows</h2>
      <table id="workflows">
        <caption class="visually-hidden">Workflows, newest first; choose one to see its steps</caption>
        <thead><tr><th scope="col">Workflow</th><th scope="col">Status</th><th scope="col">Waiting for</th><th scope="col">Started</th></tr></thead>
        <tbody id="workflow-rows"><tr><td colspan="4" class="muted">loading&hellip;</td></tr></tbody>
      </table>
    </section>
  </div>
  <section id="detail" class="card detail" aria-labelledby="detail-title" tabindex="-1">
    <h2 id="detail-title">No workflow selected</h2>
    <p class="muted" id="detail-hint">Start a workflow, or choose one in the list.</p>
    <div id="detail-body" hidden>
      <p id="detail-status"></p>
      <div id="actions" class="actions" role="group" aria-label="Decide or cancel">
        <div id="approval-box" hidden>
          <p id="approval-prompt"></p>
          <label for="comment">Comment (optional)</label>
          <input id="comment" type="text" autocomplete="off">
          <button type="button" id="approve-button" class="approve">Approve</button>
          <button type="button" id="reject-button" class="reject">Reject</button>
        </div>
        <button type="button" id="cancel-button" class="cancel">Cancel workflow</button>
        <p id="action-message" class="message" role="status" aria-live="polite"></p>
      </div>
      <h3>Steps</h3>
      <ol id="timeline" class="timeline"></ol>
      <h3>Artifacts</h3>
      <ul id="artifacts" class="artifacts"></ul>
      <section id="artifact-view" aria-labelledby="artifact-title" hidden>
        <h3 id="artifact-title">Artifact</h3>
        <pre id="artifact-text"></pre>
      </section>
      <section id="report" aria-labelledby="report-title" hidden>
        <h3 id="report-title">Report</h3>
        <div id="report-body" class="report"></div>
      </section>
      <h3>Input</h3>
      <pre id="detail-input"></pre>
      <h3>Events <span class="muted small">(live, from <code id="events-url"></code>)</span></h3>
      <ol id="events" class="events"></ol>
    </div>
  </section>
</main>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page's icon (a browser asks for one; without it, the console shows a 404). */
export const PAGE_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f1b33"/>'
  + '<path d="M4 8h3l2-4 2 8 1-4h1" fill="none" stroke="#3ddc84" stroke-width="1.6"/></svg>';

/** The page's style sheet. */
export const PAGE_STYLE = String.raw`
:root { --fg: #1d2433; --muted: #5b6478; --line: #d9dee8; --bg: #f5f7fb; --card: #fff; --accent: #1f5fd6;
  --ok: #137a3f; --warn: #9a5b00; --bad: #b42318; --run: #1f5fd6; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font-size: 15px; line-height: 1.45; }
header { padding: 14px 24px; background: #0f1b33; color: #fff; }
header h1 { margin: 0; font-size: 20px; }
header .muted { color: #aab4c8; font-weight: normal; }
header .meta { margin: 4px 0 0; color: #d5dbe7; }
header .steps { margin-left: 12px; color: #aab4c8; }
.live { float: right; padding: 1px 10px; border-radius: 10px; background: #33415c; font-size: 13px; }
.live.on { background: var(--ok); }
main { display: grid; grid-template-columns: minmax(320px, 2fr) 3fr; gap: 18px; padding: 18px 24px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin-bottom: 18px; }
.card h2 { margin: 0 0 10px; font-size: 17px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
label { display: block; margin: 8px 0 3px; font-weight: 600; font-size: 13px; }
input[type=text], textarea { width: 100%; padding: 7px 9px; border: 1px solid #b8c0d0; border-radius: 5px; font: inherit; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
button { margin-top: 10px; padding: 7px 14px; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
button:disabled { opacity: .55; cursor: default; }
button.approve { background: var(--ok); border-color: var(--ok); }
button.reject, button.cancel { background: #fff; color: var(--bad); border-color: var(--bad); }
button.link { background: none; border: none; color: var(--accent); padding: 0; margin: 0; font-weight: 600; text-decoration: underline; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.message { min-height: 1.2em; margin: 6px 0 0; font-size: 13px; }
.message.error { color: var(--bad); }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 6px 6px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
tr.selected { background: #eef3fd; }
td .link { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; font-weight: normal; text-align: left; word-break: break-all; }
.badge { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; font-weight: 700; color: #fff; background: var(--muted); }
.badge.SUCCEEDED { background: var(--ok); } .badge.RUNNING, .badge.PENDING { background: var(--run); }
.badge.WAITING { background: var(--warn); } .badge.FAILED, .badge.TIMED_OUT { background: var(--bad); }
.badge.REJECTED, .badge.CANCELLED, .badge.SKIPPED { background: #6b5b95; }
.muted { color: var(--muted); } .small { font-size: 12px; font-weight: normal; }
.detail:focus { outline: none; }
.actions { padding: 8px 0; }
.actions button { margin-right: 8px; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { padding: 7px 0; border-bottom: 1px dashed var(--line); }
.timeline .row { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.timeline .name { font-weight: 700; min-width: 90px; }
.timeline .facts { color: var(--muted); font-size: 13px; }
.timeline .track { position: relative; height: 8px; margin-top: 5px; background: #eef1f6; border-radius: 4px; }
.timeline .bar { position: absolute; top: 0; height: 8px; min-width: 3px; border-radius: 4px; background: var(--run); }
.timeline .bar.SUCCEEDED { background: var(--ok); } .timeline .bar.WAITING { background: var(--warn); }
.timeline .bar.FAILED, .timeline .bar.TIMED_OUT { background: var(--bad); } .timeline .bar.REJECTED, .timeline .bar.CANCELLED { background: #6b5b95; }
.timeline .error { color: var(--bad); font-size: 13px; margin: 3px 0 0; }
.artifacts { padding-left: 18px; margin: 0; } .artifacts li { margin: 3px 0; }
pre { background: #f3f5f9; border: 1px solid var(--line); border-radius: 5px; padding: 8px 10px; overflow: auto; max-height: 320px; font-size: 13px; white-space: pre-wrap; }
.report { border-left: 4px solid var(--ok); padding: 2px 14px; background: #f7fbf8; }
.report h1, .report h2, .report h3, .report h4 { margin: 10px 0 4px; font-size: 16px; }
.events { list-style: none; padding: 0; margin: 0; font-size: 13px; max-height: 220px; overflow: auto; }
.events li { padding: 2px 0; border-bottom: 1px solid #f0f2f6; }
.events .time { color: var(--muted); margin-right: 8px; font-family: ui-monospace, monospace; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.skip { position: absolute; left: -9999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 2; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/**
 * The page's script: plain ES2020 for the browser, run as is. It builds every element with DOM
 * calls and sets text with `textContent` (never HTML from data), and talks to the server through
 * `fetch` and `EventSource` on its own origin.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('page-config').textContent);
  var TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELLED'];
  var state = { selected: null, detail: null, source: null, listTimer: null, detailTimer: null, pollTimer: null, reportKey: null, busy: false };

  function byId(id) { return document.getElementById(id); }
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'text') node.textContent = props[k];
      else if (k === 'className') node.className = props[k];
      else if (k.indexOf('on') === 0) node.addEventListener(k.slice(2), props[k]);
      else node.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function badge(status) { return el('span', { className: 'badge ' + status, text: status.replace(/_/g, ' ') }); }
  function isTerminal(status) { return TERMINAL.indexOf(status) >= 0; }
  function time(iso) { return iso ? new Date(iso).toLocaleTimeString() : ''; }
  function seconds(ms) { return ms < 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 1000) + ' s'; }
  function artifactUrl(key) { return '/artifacts/' + key.split('/').map(encodeURIComponent).join('/'); }
  function show(node, message, isError) { node.textContent = message; node.className = 'message' + (isError ? ' error' : ''); }

  function api(method, path, body) {
    var init = { method: method, headers: { accept: 'application/json' } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { message: text }; }
        if (!res.ok) throw new Error(data.message || (res.status + ' ' + res.statusText));
        return data;
      });
    });
  }

  // The list ---------------------------------------------------------------------------------
  function loadList() {
    return api('GET', '/workflows?limit=50').then(renderList, function (e) {
      var rows = byId('workflow-rows');
      clear(rows);
      rows.appendChild(el('tr', {}, [el('td', { colspan: '4', className: 'message error', text: 'cannot list the workflows: ' + e.message })]));
    });
  }
  function scheduleList() {
    if (state.listTimer) return;
    state.listTimer = setTimeout(function () { state.listTimer = null; loadList(); }, 150);
  }
  function renderList(page) {
    var rows = byId('workflow-rows');
    clear(rows);
    var items = page.workflows || [];
    if (items.length === 0) rows.appendChild(el('tr', {}, [el('td', { colspan: '4', className: 'muted', text: 'No workflows yet: start one above.' })]));
    items.forEach(function (wf) {
      var open = el('button', { type: 'button', className: 'link', text: wf.workflow_id, 'aria-label': 'Show workflow ' + wf.workflow_id,
        onclick: function () { select(wf.workflow_id, true); } });
      var row = el('tr', { 'data-workflow-id': wf.workflow_id, 'data-status': wf.status }, [
        el('td', {}, [open]), el('td', {}, [badge(wf.status)]),
        el('td', { text: wf.awaiting ? wf.awaiting.replace(/_/g, ' ') : '' }), el('td', { text: time(wf.created_at) }),
      ]);
      if (wf.workflow_id === state.selected) row.className = 'selected';
      rows.appendChild(row);
    });
  }

  function listen() {
    var live = byId('live');
    var source = new EventSource('/events');
    source.onopen = function () { live.textContent = 'live'; live.className = 'live on'; };
    source.onerror = function () { live.textContent = 'reconnecting\u2026'; live.className = 'live'; };
    config.eventNames.forEach(function (name) { source.addEventListener(name, scheduleList); });
  }

  // Starting ----------------------------------------------------------------------------------
  function start(event) {
    event.preventDefault();
    var message = byId('start-message');
    var input;
    try {
      var text = byId('input-json').value.trim();
      input = text ? JSON.parse(text) : {};
      if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('it is not a JSON object');
    } catch (e) {
      show(message, 'The input is not valid: ' + e.message + '. Write a JSON object such as {"parameters": {"depth": "brief"}}.', true);
      byId('input-json').focus();
      return;
    }
    var topic = config.topicField ? byId('topic').value.trim() : '';
    if (topic) input.topic = topic;
    var button = byId('start-button');
    button.disabled = true;
    show(message, 'Starting\u2026', false);
    api('POST', '/workflows', input).then(function (res) {
      show(message, 'Started ' + res.workflow_id + '.', false);
      loadList();
      select(res.workflow_id, true);
    }, function (e) {
      show(message, 'Not started: ' + e.message, true);
    }).then(function () { button.disabled = false; });
  }

  // One workflow ------------------------------------------------------------------------------
  function select(id, focus) {
    if (state.selected !== id) {
      state.selected = id;
      state.detail = null;
      state.reportKey = null;
      if (location.hash !== '#' + id) history.replaceState(null, '', '#' + id);
      clear(byId('events'));
      byId('artifact-view').hidden = true;
      byId('report').hidden = true;
      byId('comment').value = '';
      show(byId('action-message'), '', false);
      follow(id);
      document.querySelectorAll('#workflow-rows tr').forEach(function (tr) {
        tr.className = tr.getAttribute('data-workflow-id') === id ? 'selected' : '';
      });
    }
    loadDetail().then(function () { if (focus) byId('detail').focus(); });
  }

  function follow(id) {
    if (state.source) state.source.close();
    var url = '/workflows/' + encodeURIComponent(id) + '/events';
    byId('events-url').textContent = url;
    var source = new EventSource(url);
    state.source = source;
    config.eventNames.forEach(function (name) {
      source.addEventListener(name, function (message) {
        if (state.source !== source) return;
        addEvent(JSON.parse(message.data));
        scheduleDetail();
      });
    });
    source.addEventListener('end', function (message) {
      if (state.source !== source) return;
      var end = JSON.parse(message.data);
      byId('events').appendChild(el('li', {}, [el('span', { className: 'time', text: '' }), 'stream ended: workflow ' + end.status]));
      source.close();
      state.source = null;
      scheduleDetail();
    });
  }

  function addEvent(event) {
    var what = event.type + (event.stepName ? ' \u2014 ' + event.stepName : '');
    if (event.detail && event.detail.status) what += ' (' + event.detail.status + ')';
    byId('events').appendChild(el('li', {}, [el('span', { className: 'time', text: time(event.time) }), what]));
  }

  function scheduleDetail() {
    if (state.detailTimer) return;
    state.detailTimer = setTimeout(function () { state.detailTimer = null; loadDetail(); }, 100);
  }

  function loadDetail() {
    var id = state.selected;
    if (!id) return Promise.resolve();
    return api('GET', '/workflows/' + encodeURIComponent(id)).then(function (wf) {
      if (state.selected !== id) return;
      state.detail = wf;
      renderDetail(wf);
      // Attempts and retries change the record without an event: look again while it runs.
      clearTimeout(state.pollTimer);
      if (!isTerminal(wf.status)) state.pollTimer = setTimeout(loadDetail, 5000);
    }, function (e) {
      byId('detail-title').textContent = 'Workflow ' + id;
      byId('detail-hint').textContent = 'Cannot show it: ' + e.message;
      byId('detail-hint').hidden = false;
      byId('detail-body').hidden = true;
    });
  }

  function renderDetail(wf) {
    byId('detail-title').textContent = 'Workflow ' + wf.workflow_id;
    byId('detail-hint').hidden = true;
    byId('detail-body').hidden = false;
    var status = byId('detail-status');
    clear(status);
    status.appendChild(badge(wf.status));
    status.setAttribute('data-status', wf.status);
    var words = ' ' + wf.definition + ', started ' + time(wf.created_at);
    if (wf.awaiting) words += ', waiting for ' + wf.awaiting.replace(/_/g, ' ');
    if (wf.cancel_requested && !isTerminal(wf.status)) words += ', cancellation requested';
    status.appendChild(document.createTextNode(words));
    if (wf.error) status.appendChild(el('span', { className: 'message error', text: ' \u2014 ' + (wf.error.message || wf.error.code) }));

    var waiting = wf.awaiting === 'approval' && !isTerminal(wf.status);
    byId('approval-box').hidden = !waiting;
    var approval = (wf.steps || []).filter(function (s) { return s.type === 'approval' && s.status === 'WAITING'; })[0];
    byId('approval-prompt').textContent = approval && approval.output && approval.output.prompt ? approval.output.prompt : '';
    byId('cancel-button').hidden = isTerminal(wf.status);
    ['approve-button', 'reject-button', 'cancel-button'].forEach(function (b) { byId(b).disabled = state.busy; });

    renderTimeline(wf);
    renderArtifacts(wf);
    byId('detail-input').textContent = JSON.stringify(wf.input, null, 2);
    var report = wf.result && typeof wf.result.report === 'string' ? wf.result.report : null;
    if (report && report !== state.reportKey) {
      state.reportKey = report;
      fetchText(report).then(function (text) {
        if (state.reportKey !== report) return;
        renderMarkdown(byId('report-body'), text);
        byId('report').hidden = false;
      }, function (e) {
        byId('report-body').textContent = 'The report cannot be read: ' + e.message;
        byId('report').hidden = false;
      });
    }
  }

  function renderTimeline(wf) {
    var list = byId('timeline');
    clear(list);
    var now = Date.now();
    var begin = Date.parse(wf.created_at);
    var steps = wf.steps || [];
    var end = isTerminal(wf.status) ? Date.parse(wf.updated_at) : now;
    steps.forEach(function (s) { if (s.ended_at) end = Math.max(end, Date.parse(s.ended_at)); });
    var span = Math.max(end - begin, 1);
    var seen = {};
    steps.forEach(function (s) {
      seen[s.name] = true;
      var started = s.started_at ? Date.parse(s.started_at) : null;
      var ended = s.ended_at ? Date.parse(s.ended_at) : null;
      var facts = [s.type + ' step'];
      if (s.attempts !== undefined) facts.push(s.attempts === 1 ? '1 attempt' : s.attempts + ' attempts');
      if (started !== null) facts.push(ended !== null ? 'took ' + seconds(ended - started) : 'for ' + seconds(now - started) + ' so far');
      if (started !== null) facts.push('started ' + time(s.started_at));
      var track = el('div', { className: 'track', 'aria-hidden': 'true' });
      if (started !== null) {
        var bar = el('div', { className: 'bar ' + s.status });
        var left = (started - begin) / span * 100;
        bar.style.left = Math.max(0, Math.min(left, 100)).toFixed(2) + '%';
        bar.style.width = Math.max(0, Math.min(((ended !== null ? ended : now) - started) / span * 100, 100 - left)).toFixed(2) + '%';
        track.appendChild(bar);
      }
      var item = el('li', { 'data-step': s.name, 'data-status': s.status }, [
        el('div', { className: 'row' }, [el('span', { className: 'name', text: s.name }), badge(s.status), el('span', { className: 'facts', text: facts.join(' \u00b7 ') })]),
        track,
      ]);
      if (s.error) item.appendChild(el('p', { className: 'error', text: (s.error.code ? s.error.code + ': ' : '') + (s.error.message || '') }));
      if (s.output && s.output.comment) item.appendChild(el('p', { className: 'facts', text: 'comment: ' + s.output.comment }));
      list.appendChild(item);
    });
    config.steps.forEach(function (name) {
      if (seen[name] || isTerminal(wf.status)) return;
      list.appendChild(el('li', { 'data-step': name, 'data-status': 'NOT_STARTED' }, [
        el('div', { className: 'row' }, [el('span', { className: 'name', text: name }), el('span', { className: 'facts', text: 'not started' })]),
      ]));
    });
  }

  function renderArtifacts(wf) {
    var list = byId('artifacts');
    clear(list);
    var items = [];
    (wf.steps || []).forEach(function (s) {
      var artifacts = s.output && s.output.artifacts;
      if (artifacts && typeof artifacts === 'object') Object.keys(artifacts).forEach(function (name) { items.push({ label: s.name + ': ' + name, key: artifacts[name] }); });
    });
    if (wf.result && typeof wf.result.report === 'string') items.push({ label: 'published report', key: wf.result.report });
    if (items.length === 0) list.appendChild(el('li', { className: 'muted', text: 'none yet' }));
    items.forEach(function (item) {
      list.appendChild(el('li', {}, [
        el('button', { type: 'button', className: 'link', text: item.label, 'aria-label': 'Show artifact ' + item.label,
          onclick: function () { showArtifact(item); } }),
        ' ', el('code', { text: item.key }), ' ',
        el('a', { href: artifactUrl(item.key), target: '_blank', rel: 'noopener', text: 'open', 'aria-label': 'Open artifact ' + item.label + ' in a new tab' }),
      ]));
    });
  }

  function fetchText(key) {
    return fetch(artifactUrl(key)).then(function (res) {
      return res.text().then(function (text) {
        if (!res.ok) { var m = text; try { m = JSON.parse(text).message; } catch (e) { /* plain text */ } throw new Error(m); }
        return text;
      });
    });
  }

  function showArtifact(item) {
    var view = byId('artifact-view');
    byId('artifact-title').textContent = 'Artifact: ' + item.label;
    byId('artifact-text').textContent = 'loading\u2026';
    view.hidden = false;
    fetchText(item.key).then(function (text) { byId('artifact-text').textContent = text; }, function (e) {
      byId('artifact-text').textContent = 'Cannot read it: ' + e.message;
    });
  }

  // Markdown as text: headings, list items and paragraphs, each set with textContent.
  function renderMarkdown(node, text) {
    clear(node);
    var list = null;
    var para = [];
    function flush() { if (para.length) { node.appendChild(el('p', { text: para.join(' ') })); para = []; } }
    text.split(/\r?\n/).forEach(function (line) {
      var heading = /^(#{1,6})\s+(.*)$/.exec(line);
      var item = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/.exec(line);
      if (heading) { flush(); list = null; node.appendChild(el('h' + Math.min(heading[1].length + 1, 6), { text: heading[2] })); }
      else if (item) { flush(); if (!list) { list = el('ul'); node.appendChild(list); } list.appendChild(el('li', { text: item[1] })); }
      else if (line.trim() === '') { flush(); list = null; }
      else { list = null; para.push(line.trim()); }
    });
    flush();
  }

  // Decisions ---------------------------------------------------------------------------------
  function act(path, body, done) {
    var id = state.selected;
    if (!id || state.busy) return;
    state.busy = true;
    ['approve-button', 'reject-button', 'cancel-button'].forEach(function (b) { byId(b).disabled = true; });
    var message = byId('action-message');
    show(message, 'Sending\u2026', false);
    api('POST', '/workflows/' + encodeURIComponent(id) + path, body).then(function (res) {
      show(message, done + (res.message ? ': ' + res.message : ''), false);
    }, function (e) {
      show(message, 'Refused: ' + e.message, true);
    }).then(function () {
      state.busy = false;
      return loadDetail();
    });
  }
  function decide(approved) {
    var comment = byId('comment').value.trim();
    var body = { approved: approved };
    if (comment) body.comment = comment;
    act('/approval', body, approved ? 'Approved' : 'Rejected');
  }

  byId('input-json').value = JSON.stringify(Object.keys(config.exampleInput).reduce(function (rest, k) {
    if (k !== 'topic' || !config.topicField) rest[k] = config.exampleInput[k];
    return rest;
  }, {}), null, 2);
  if (!config.topicField) byId('topic-field').hidden = true;
  else if (typeof config.exampleInput.topic === 'string') byId('topic').value = config.exampleInput.topic;
  byId('start-form').addEventListener('submit', start);
  byId('approve-button').addEventListener('click', function () { decide(true); });
  byId('reject-button').addEventListener('click', function () { decide(false); });
  byId('cancel-button').addEventListener('click', function () { act('/cancel', undefined, 'Cancellation requested'); });
  window.addEventListener('hashchange', function () { var id = location.hash.slice(1); if (id && id !== state.selected) select(id, false); });
  listen();
  loadList();
  if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)), false);
})();
`;
