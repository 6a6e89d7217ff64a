// hikyaku console: live refresh, hand-written, no build step. The page's
// <main data-refresh="SECONDS" data-refresh-src="URL"> is fetched again
// every SECONDS and its content replaced, so an ack by someone else shows
// without a reload. It waits while the tab is hidden (and refreshes when
// it is shown again) and while a form in the region is being filled in.
// Without JavaScript the page is the same page: reload it by hand.
(function () {
  "use strict";
  var main = document.querySelector("main[data-refresh]");
  var status = document.getElementById("refresh-status");
  if (!main || !status || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = parseInt(main.getAttribute("data-refresh"), 10) * 1000;
  var src = main.getAttribute("data-refresh-src");
  if (!(every > 0) || !src) {
    return;
  }
  var busy = false, dirty = false;
  // Typing into a field marks the region dirty until the form is sent:
  // replacing it would throw away what was typed.
  main.addEventListener("input", function () { dirty = true; });
  function say(key) {
    status.textContent = status.getAttribute(key);
  }
  function filling() {
    var a = document.activeElement;
    return dirty || (a !== null && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName));
  }
  function refresh() {
    if (busy || document.hidden) {
      return;
    }
    if (filling()) {
      say("data-text-paused");
      return;
    }
    busy = true;
    // redirect "manual": an ended session answers with the sign-in
    // redirect, which must not be followed (nor shown) from here.
    fetch(src, { credentials: "same-origin", redirect: "manual", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.type === "opaqueredirect" || !r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("main[data-refresh]");
        if (fresh === null) {
          throw new Error("no region in the answer");
        }
        if (filling()) {
          say("data-text-paused");
          return;
        }
        main.innerHTML = fresh.innerHTML;
        main.setAttribute("data-refreshed", new Date().toISOString());
        say("data-text-on");
      })
      .catch(function () {
        say("data-text-failed");
      })
      .then(function () {
        busy = false;
      });
  }
  say("data-text-on");
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
})();
