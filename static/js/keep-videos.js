/*
 * Today: "Keep today's videos on this phone". Loaded only on a Today page that has videos;
 * the service worker (sw.js) fetches and keeps them, and answers their range requests.
 */
(function () {
  "use strict";
  const box = document.querySelector("[data-keep-videos]");
  if (!box || !("serviceWorker" in navigator) || !window.MessageChannel) { return; }
  const button = box.querySelector("button");
  const status = box.querySelector("[data-keep-videos-status]");
  // The clips' ids; each is its video and its poster (blueprints/media).
  const urls = box.dataset.keepVideos.split(" ").reduce(function (all, id) {
    return all.concat(["/media/" + id + "/video.mp4", "/media/" + id + "/poster.jpg"]);
  }, []);
  box.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = box.dataset.working;
    navigator.serviceWorker.ready.then(function (registration) {
      const channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        status.textContent = event.data && event.data.ok ? box.dataset.done : box.dataset.failed;
        button.disabled = false;
      };
      registration.active.postMessage(
        { type: "hp-keep-videos", urls: urls }, [channel.port2]
      );
    });
  });
})();
