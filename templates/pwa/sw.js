// Housing MOT service worker.
//
// The field node runs on this device, so the network is localhost: this worker covers the
// moments when the local server is restarting or has stopped. It precaches the assets every
// page needs, keeps a copy of the most recently used pages (network first, so a page is
// never older than the last time the server answered), and marks a page it serves from
// the cache so the page can say it is offline. Form posts are never cached or replayed:
// answers are saved by the server, and an answer that did not reach it is not saved.
const PRECACHE = {{ precache | tojson }};
const ASSETS_CACHE = "assets-{{ version }}";
const PAGES_CACHE = "pages-v1";
const MAX_PAGES = 40;
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(ASSETS_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("assets-") && key !== ASSETS_CACHE)
          .map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function trimPages(cache) {
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) {
    await cache.delete(key);
  }
}

async function markedFromCache(response) {
  const html = await response.text();
  const marked = html.replace("<html ", '<html data-served-from-cache="true" ');
  return new Response(marked, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function page(request) {
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok && !response.redirected) {
      await cache.delete(request.url);
      await cache.put(request.url, response.clone());
      trimPages(cache);
    }
    if (new URL(request.url).pathname === "/sign-in") {
      // Signing in (or out) starts afresh: no saved pages of the last session are kept.
      await caches.delete(PAGES_CACHE);
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request.url);
    if (cached) return markedFromCache(cached);
    const offline = await caches.match("/offline");
    return offline ? markedFromCache(offline) : Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
