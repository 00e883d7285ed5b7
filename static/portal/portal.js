// Small progressive enhancements; everything works without JavaScript too.
// No inline scripts anywhere: the Content Security Policy allows only files served by the app.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
  });

  // --- The organization switcher: a combobox (WAI-ARIA APG) over the htmx-loaded listbox. ---
  function switcherParts() {
    var input = document.getElementById("org-switcher-input");
    var results = document.getElementById("org-switcher-results");
    return input && results ? { input: input, results: results } : null;
  }
  function options(parts) { return Array.prototype.slice.call(parts.results.querySelectorAll("[role=option]")); }
  function activate(parts, index) {
    var all = options(parts);
    all.forEach(function (option, i) {
      var on = i === index;
      option.setAttribute("aria-selected", on ? "true" : "false");
      option.classList.toggle("active", on);
      if (on) {
        parts.input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
    if (index < 0 || index >= all.length) { parts.input.removeAttribute("aria-activedescendant"); }
  }
  function activeIndex(parts) {
    return options(parts).findIndex(function (option) { return option.getAttribute("aria-selected") === "true"; });
  }
  function closeSwitcher(parts) {
    parts.results.innerHTML = "";
    parts.input.setAttribute("aria-expanded", "false");
    parts.input.removeAttribute("aria-activedescendant");
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var parts = switcherParts();
    if (!parts || event.target !== parts.results) { return; }
    parts.input.setAttribute("aria-expanded", parts.results.innerHTML.trim() ? "true" : "false");
    activate(parts, -1);
  });
  document.addEventListener("keydown", function (event) {
    var parts = switcherParts();
    if (!parts || event.target !== parts.input) { return; }
    var all = options(parts);
    var index = activeIndex(parts);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) { return; }
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      activate(parts, index < 0 ? (step > 0 ? 0 : all.length - 1) : (index + step + all.length) % all.length);
    } else if (event.key === "Home" && all.length && event.ctrlKey) {
      event.preventDefault(); activate(parts, 0);
    } else if (event.key === "End" && all.length && event.ctrlKey) {
      event.preventDefault(); activate(parts, all.length - 1);
    } else if (event.key === "Enter") {
      var chosen = all[index >= 0 ? index : 0];
      if (chosen) { event.preventDefault(); window.location.assign(chosen.href); }
    } else if (event.key === "Escape") {
      if (parts.results.innerHTML.trim()) { event.preventDefault(); closeSwitcher(parts); }
    }
  });
  document.addEventListener("click", function (event) {
    // Close the switcher when clicking elsewhere.
    var switcher = document.querySelector("[data-switcher]");
    var parts = switcherParts();
    if (switcher && parts && !switcher.contains(event.target)) { closeSwitcher(parts); }
  });
  document.addEventListener("focusin", function (event) {
    var switcher = document.querySelector("[data-switcher]");
    var parts = switcherParts();
    if (switcher && parts && !switcher.contains(event.target)) { closeSwitcher(parts); }
  });

  // --- Confirm dialogs: <form data-confirm-dialog="id"> asks with <dialog id="id"> first. ---
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var dialogId = form.getAttribute("data-confirm-dialog");
    if (dialogId && form.getAttribute("data-confirmed") !== "true") {
      var dialog = document.getElementById(dialogId);
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        event.stopPropagation(); // before htmx sees it (capture phase)
        pending = { form: form, submitter: event.submitter || null };
        dialog.showModal();
        return;
      }
    }
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); event.stopPropagation(); }
  }, true);
  document.addEventListener("click", function (event) {
    var confirm = event.target.closest("[data-dialog-confirm]");
    var cancel = event.target.closest("[data-dialog-cancel]");
    if (!confirm && !cancel) { return; }
    var dialog = (confirm || cancel).closest("dialog");
    if (dialog) { dialog.close(confirm ? "confirm" : "cancel"); }
    if (confirm && pending) {
      var form = pending.form;
      var submitter = pending.submitter;
      pending = null;
      form.setAttribute("data-confirmed", "true");
      if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
      form.removeAttribute("data-confirmed");
    }
  });
  document.addEventListener("close", function (event) {
    if (event.target.matches && event.target.matches("dialog.confirm-dialog") && event.target.returnValue !== "confirm") {
      pending = null;
    }
  }, true);

  // --- Dashboard panels load one by one (htmx); a failed one says so instead of loading forever. ---
  function panelFailed(event) {
    var slot = event.detail && event.detail.elt;
    if (!slot || !slot.matches || !slot.matches("[data-panel-slot]")) { return; }
    var loading = slot.querySelector("[data-panel-loading]");
    var error = slot.querySelector("[data-panel-error]");
    if (loading) { loading.classList.add("d-none"); }
    if (error) { error.classList.remove("d-none"); }
    slot.querySelector("[aria-busy]").setAttribute("aria-busy", "false");
  }
  document.addEventListener("htmx:responseError", panelFailed);
  document.addEventListener("htmx:sendError", panelFailed);
})();
