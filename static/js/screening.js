// Keyboard-first screening. The page holds the record on screen (#current) and the next one,
// preloaded (#upcoming). A vote swaps the preloaded record in at once, then posts the vote; the
// response (an htmx fragment of the record after that) becomes the new preloaded one. Requests
// run one after another, so a fast typist can never be shown the same record twice.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) { return; }
  var current = document.getElementById("current");
  var upcoming = document.getElementById("upcoming");
  var statusBox = document.getElementById("screen-status");
  var errorBox = document.getElementById("screen-error");
  var shortcuts = document.querySelector(".shortcuts dl");
  var csrf = root.dataset.csrf;
  var queue = Promise.resolve();
  var LABELS = { include: "Include", exclude: "Exclude", maybe: "Maybe" };

  function card(box) { return box.querySelector("article.record"); }
  function itemOf(box) { var c = card(box); return c && c.dataset.item ? c.dataset.item : ""; }
  function say(text) { statusBox.textContent = text; }
  function fail(text) { errorBox.textContent = text; root.dataset.error = "1"; }
  function clearError() { errorBox.textContent = ""; delete root.dataset.error; }

  function focusCard() {
    var heading = current.querySelector("article.record h2");
    if (heading) { heading.focus({ preventScroll: false }); }
    window.scrollTo(0, root.offsetTop - 10);
  }

  function show(box, html) {
    box.innerHTML = html;
    if (window.htmx) { window.htmx.process(box); }
  }

  function request(method, url, body) {
    return fetch(url, {
      method: method,
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": csrf },
    }).then(function (response) {
      return response.text().then(function (text) {
        return { ok: response.ok, status: response.status, text: text };
      });
    });
  }

  function errorText(result) {
    if (result.status === 403) { return "You do not have the role to do that."; }
    if (result.status === 404) { return "That record no longer exists."; }
    var doc = new DOMParser().parseFromString(result.text, "text/html");
    var box = doc.querySelector("[data-errors]");
    return box ? box.textContent.trim() : "The server could not save that (" + result.status + ").";
  }

  function enqueue(step) {
    queue = queue.then(step).catch(function () {
      fail("The connection failed; nothing was saved. Check your network and try again.");
    }).then(function () {
      root.dataset.busy = "";
    });
  }

  function preload() {
    enqueue(function () {
      var shown = itemOf(current);
      if (!shown || card(upcoming)) { return; }
      var url = root.dataset.nextUrl + "?exclude=" + encodeURIComponent(shown);
      return request("GET", url).then(function (result) {
        if (result.ok && !card(upcoming)) { show(upcoming, result.text); }
      });
    });
  }

  function vote(decision) {
    enqueue(function () {
      var art = card(current);
      if (!art || !art.dataset.item) { say("Nothing to vote on here."); return; }
      var form = art.querySelector("form.vote-form");
      var data = new FormData(form);
      data.set("decision", decision);
      if (decision !== "exclude") { data.delete("reason"); }
      if (decision === "exclude" && art.dataset.reasonsRequired === "true" && !data.get("reason")) {
        fail("Choose a reason first (number keys 1–9): this stage requires one for Exclude.");
        var first = art.querySelector("input[name=reason]");
        if (first) { first.focus(); }
        return;
      }
      clearError();
      root.dataset.busy = "1";
      var next = card(upcoming);
      data.set("upcoming", next && next.dataset.item ? next.dataset.item : "");
      var title = art.dataset.title || "record";
      if (next) {
        // The next record is already here: show it now, save the vote behind it.
        current.replaceChildren(next);
        upcoming.replaceChildren();
        focusCard();
      } else {
        say("Saving…");
      }
      return request("POST", form.action, data).then(function (result) {
        if (!result.ok) {
          if (next) { upcoming.replaceChildren(next); }
          current.replaceChildren(art);
          fail(errorText(result));
          focusCard();
          return;
        }
        if (next) {
          show(upcoming, result.text);
        } else {
          show(current, result.text);
          focusCard();
        }
        refreshCounter(result.text);
        say(LABELS[decision] + " saved: " + title);
        if (!next) { preload(); }
      });
    });
  }

  function refreshCounter(html) {
    // The fragment carries the reviewer's counter as of this vote; copy it to the card on screen.
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("[data-counter]");
    var shown = current.querySelector("[data-counter]");
    if (fresh && shown) { shown.textContent = fresh.textContent; }
  }

  function undo() {
    enqueue(function () {
      clearError();
      root.dataset.busy = "1";
      return request("POST", root.dataset.undoUrl, new FormData()).then(function (result) {
        if (!result.ok) { fail(errorText(result)); return; }
        var shown = card(current);
        if (shown && shown.dataset.item) { upcoming.replaceChildren(shown); } else { upcoming.replaceChildren(); }
        show(current, result.text);
        focusCard();
        say("Your last vote was withdrawn; the record is back on screen.");
      });
    });
  }

  function pickReason(n) {
    var art = card(current);
    if (!art) { return; }
    var radios = art.querySelectorAll("input[name=reason]");
    var radio = radios[n - 1];
    if (!radio) { say("There is no reason " + n + "."); return; }
    radio.checked = !radio.checked;
    var label = radio.parentElement.textContent.replace(/\s+/g, " ").trim();
    say(radio.checked ? "Reason chosen: " + label : "Reason cleared.");
  }

  function toggleShortcuts() {
    if (!shortcuts) { return; }
    shortcuts.hidden = !shortcuts.hidden;
    say(shortcuts.hidden ? "Keyboard shortcuts hidden; press ? to show them." : "Keyboard shortcuts shown.");
  }

  function focusNote() {
    var note = current.querySelector("textarea.note");
    if (note) { note.focus(); }
  }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) { return true; }
    return tag === "INPUT" && ["radio", "checkbox", "button", "submit"].indexOf(target.type) === -1;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); focusCard(); event.preventDefault(); }
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "i") { vote("include"); }
    else if (key === "e") { vote("exclude"); }
    else if (key === "m") { vote("maybe"); }
    else if (key === "u") { undo(); }
    else if (key === "n") { focusNote(); }
    else if (/^[1-9]$/.test(key)) { pickReason(parseInt(key, 10)); }
    else if (key === "?") { toggleShortcuts(); }
    else { return; }
    event.preventDefault();
  });

  // Mouse and plain Enter go the same way as the keys.
  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("vote-form")) {
      event.preventDefault();
      var decision = event.submitter && event.submitter.value;
      if (decision) { vote(decision); }
    } else if (form.classList.contains("undo-form")) {
      event.preventDefault();
      undo();
    }
  });

  // Forms inside the record (full-text upload, link, not retrieved) are plain htmx; they tell
  // the server which record is preloaded, so it is not handed out twice, and show its errors.
  root.addEventListener("htmx:configRequest", function (event) {
    event.detail.parameters.upcoming = itemOf(upcoming);
  });
  root.addEventListener("htmx:responseError", function (event) {
    fail(errorText({ status: event.detail.xhr.status, text: event.detail.xhr.responseText }));
  });
  // A later request that works (a good file after a refused one) takes the old error away.
  root.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { clearError(); }
  });

  if (!card(upcoming)) { preload(); }
})();
