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
