// Small, hand-written behaviour. htmx does the requests; this file only adds keyboard help.
(function () {
  "use strict";
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("htmx-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-error";
      box.className = "errors";
      box.setAttribute("role", "alert");
      document.querySelector("main").prepend(box);
    }
    var status = event.detail.xhr.status;
    box.textContent = status === 403 ? "You do not have the role to do that." :
      status === 404 ? "That item no longer exists." : "The server could not complete the request (" + status + ").";
  });
  // The banner tells of the last request only: one that works takes it away again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = document.getElementById("htmx-error");
    if (box && event.detail.successful) { box.remove(); }
  });
})();
