/* Patronage staff UI: progressive enhancement only; every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Server-rendered dialogs (e.g. the possible-duplicate warning) arrive with the "open"
  // attribute so they show without JavaScript; with it, make them modal.
  function showModals(root) {
    root.querySelectorAll("dialog[data-modal][open]").forEach(function (dialog) {
      if (typeof dialog.showModal === "function") {
        dialog.close();
        dialog.showModal();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { showModals(document); });
  document.addEventListener("htmx:load", function (event) { showModals(event.target); });
})();
