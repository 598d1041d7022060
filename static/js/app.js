// Housing MOT page script: starts GOV.UK Frontend, registers the service worker and shows
// the offline notice when a page was served from the service worker's cache.
const script = document.querySelector("script[data-govuk-frontend]");

if (script) {
  import(script.dataset.govukFrontend).then(({ initAll }) => initAll());
}

if (script && script.dataset.serviceWorker && "serviceWorker" in navigator) {
  navigator.serviceWorker.register(script.dataset.serviceWorker, { scope: "/" });
}

const notice = document.getElementById("offline-notice");

function showOfflineNotice() {
  if (notice) notice.hidden = false;
}

// The service worker marks pages it served from its cache.
if (document.documentElement.dataset.servedFromCache === "true") showOfflineNotice();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "served-from-cache") showOfflineNotice();
  });
}

// Keep the sync state and each visit's way to the office up to date while the page is open.
const syncStatus = document.getElementById("sync-status");
const REFRESH_MS = 4000;

function setText(id, text) {
  const element = document.getElementById(id);
  if (element && element.textContent !== String(text)) element.textContent = text;
}

async function refreshSyncStatus() {
  const visits = [...document.querySelectorAll("[data-visit-progress]")];
  const query = new URLSearchParams(visits.map((e) => ["visit", e.dataset.visitProgress]));
  let state;
  try {
    const response = await fetch(`${syncStatus.dataset.statusUrl}?${query}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    state = await response.json();
  } catch (error) {
    return; // the local app is not reachable: the offline notice covers this
  }
  setText("sync-connection", state.online ? "Online" : "Offline");
  setText("sync-last", state.last_success_at);
  setText("sync-waiting", state.waiting);
  setText("sync-attention", state.needs_attention);
  for (const element of visits) {
    const progress = state.visits[element.dataset.visitProgress];
    if (!progress) continue;
    const label = element.querySelector("[data-progress-label]");
    const detail = element.querySelector("[data-progress-detail]");
    if (label && label.textContent !== progress.label) {
      label.textContent = progress.label;
      label.className = `govuk-tag ${progress.tag}`;
    }
    if (detail && detail.textContent !== progress.detail) detail.textContent = progress.detail;
  }
}

if (syncStatus && syncStatus.dataset.statusUrl) {
  setInterval(refreshSyncStatus, REFRESH_MS);
  window.addEventListener("online", refreshSyncStatus);
}
