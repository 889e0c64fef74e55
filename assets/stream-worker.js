// The event stream of every dashboard tab in this browser, held once.
//
// A browser opens at most six connections to one host, and each tab's own
// stream would hold one for good: the seventh tab would never load. So the
// tabs share this worker, and it holds one `EventSource` for all of them.
//
// Each tab says which runs it shows ({follow: [run, ...]}); the stream
// follows the union of them, with the shared runs' summary, and each
// message about a run goes only to the tabs that show it. When the union
// changes, or a tab joins, the stream is opened again, resuming every run
// it kept from the cursor held here, so no tab misses an event. (A joining
// tab may bring new cookies: the presenter's token, a student's identity,
// and the stream must be made as the browser is now.) A tab says
// {bye: true} when it goes away.
//
// Run as a SharedWorker where the browser has them, else as one tab's own
// dedicated worker: the same code with one port.

'use strict';

const REOPEN_AFTER_MS = 1000;

/** port -> the runs that tab shows (null until it has said) */
const tabs = new Map();
/** run -> the last sequence number the stream brought of it */
const cursor = new Map();
let source = null;
let following = null;
let reopening = 0;
let live = false;
/** The latest summary, for a tab that shows another run. */
let lastSummary = null;

function attach(port) {
  tabs.set(port, null);
  port.onmessage = (e) => {
    const said = e.data || {};
    let joined = false;
    if (said.bye) {
      tabs.delete(port);
    } else if (Array.isArray(said.follow)) {
      joined = tabs.get(port) === null;
      tabs.set(port, new Set(said.follow.filter((r) => typeof r === 'string')));
      if (live && !joined) port.postMessage({ kind: 'open' });
      if (lastSummary !== null) port.postMessage({ kind: 'summary', data: lastSummary });
    }
    refollow(joined);
  };
  if (typeof port.start === 'function') port.start();
}

/** Opens the stream again if the runs the tabs show have changed, or
 * `anyway`. */
function refollow(anyway) {
  const union = new Set();
  for (const runs of tabs.values()) for (const run of runs || []) union.add(run);
  const key = [...union].sort().join(',');
  if (tabs.size === 0) {
    close();
    following = null;
    return;
  }
  if (key === following && source !== null && !anyway) return;
  following = key;
  for (const run of [...cursor.keys()]) if (!union.has(run)) cursor.delete(run);
  open();
}

function close() {
  if (source !== null) source.close();
  source = null;
  live = false;
  clearTimeout(reopening);
}

function open() {
  close();
  const after = [...cursor].map(([run, seq]) => `${run}:${seq}`).join(',');
  let url = `/api/events?summaries=true&runs=${encodeURIComponent(following)}`;
  if (after) url += `&after=${encodeURIComponent(after)}`;
  const stream = new EventSource(url);
  source = stream;
  stream.onopen = () => {
    live = true;
    toAll({ kind: 'open' });
  };
  stream.onerror = () => {
    if (source !== stream) return;
    // Reopened here rather than by the browser, whose `Last-Event-ID`
    // would name only the run of the last message.
    close();
    toAll({ kind: 'error' });
    reopening = setTimeout(() => {
      if (following !== null && source === null) open();
    }, REOPEN_AFTER_MS);
  };
  for (const kind of ['snapshot', 'batch']) {
    stream.addEventListener(kind, (e) => {
      const at = e.lastEventId.lastIndexOf(':');
      const run = e.lastEventId.slice(0, at);
      const seq = Number(e.lastEventId.slice(at + 1));
      if (at > 0 && Number.isFinite(seq)) cursor.set(run, seq);
      toShowing(run, { kind, data: e.data });
    });
  }
  stream.addEventListener('removed', (e) => {
    let run = null;
    try {
      run = JSON.parse(e.data).run;
    } catch (_) {
      return;
    }
    cursor.delete(run);
    toShowing(run, { kind: 'removed', data: e.data });
  });
  stream.addEventListener('lagged', (e) => toAll({ kind: 'lagged', data: e.data }));
  stream.addEventListener('class', (e) => toAll({ kind: 'class', data: e.data }));
  stream.addEventListener('summary', (e) => {
    lastSummary = e.data;
    toAll({ kind: 'summary', data: e.data });
  });
}

function toAll(message) {
  for (const port of tabs.keys()) port.postMessage(message);
}

function toShowing(run, message) {
  for (const [port, runs] of tabs) if (runs.has(run)) port.postMessage(message);
}

if ('onconnect' in self) {
  self.onconnect = (e) => attach(e.ports[0]);
} else {
  attach(self);
}
