// Keyboard shortcuts for the duplicate review queue: S same, D different, 1/2 choose primary.
(function () {
  "use strict";
  function form() { return document.getElementById("dedup-form"); }
  function choose(side) {
    var input = document.getElementById("dedup-primary");
    if (!input) return;
    input.value = side;
    document.querySelectorAll(".primary-choice").forEach(function (el) {
      el.classList.toggle("chosen", el.dataset.side === side);
    });
  }
  function submit(decision) {
    var f = form();
    if (!f) return;
    // The hidden field carries the decision: a submit started from the keyboard has no
    // clicked button for htmx to send.
    document.getElementById("dedup-decision").value = decision;
    f.requestSubmit();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key.toLowerCase();
    if (key === "s") { event.preventDefault(); submit("same"); }
    else if (key === "d") { event.preventDefault(); submit("different"); }
    else if (key === "1") { event.preventDefault(); choose("left"); }
    else if (key === "2") { event.preventDefault(); choose("right"); }
  });
})();
