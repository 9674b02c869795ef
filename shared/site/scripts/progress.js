(function () {
  var v = document.getElementById("video");
  if (!v || !navigator.sendBeacon) return;
  var played = 0, last = null;
  function tick() {
    if (last === null) return;
    var d = v.currentTime - last;
    if (d > 0 && d < 5) played += d;
    last = v.currentTime;
  }
  function send() {
    tick();
    var s = Math.floor(played);
    if (s < 1) return;
    played -= s;
    navigator.sendBeacon("/video/progress", new URLSearchParams({ seconds: String(s) }));
  }
  v.addEventListener("playing", function () { last = v.currentTime; });
  v.addEventListener("timeupdate", tick);
  v.addEventListener("seeking", function () { tick(); last = null; });
  v.addEventListener("seeked", function () { if (!v.paused) last = v.currentTime; });
  v.addEventListener("pause", function () { send(); last = null; });
  v.addEventListener("ended", function () { send(); last = null; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send();
  });
})();
