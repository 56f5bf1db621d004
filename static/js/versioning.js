// Version compare: keys s (split/unified), n and p (next/previous change), copy buttons and
// line permalinks. The view choice itself is remembered by the server in a cookie.
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable], .cm-editor") !== null;
  }

  function changeStarts() {
    var rows = document.querySelectorAll(".diff tbody tr");
    var starts = [];
    var previousChanged = false;
    rows.forEach(function (row) {
      var changed = row.classList.contains("diff-row") && !row.classList.contains("diff-equal");
      if (changed && !previousChanged) starts.push(row);
      previousChanged = changed;
    });
    return starts;
  }

  function jump(step) {
    var starts = changeStarts();
    if (!starts.length) return;
    var current = document.querySelector(".diff tr.diff-current");
    var index = current ? starts.indexOf(current) : -1;
    if (current) current.classList.remove("diff-current");
    if (index === -1) {
      // From the top of the viewport, the first change below it (or above it for p).
      var top = window.innerHeight * 0.25;
      index = step > 0 ? starts.findIndex(function (row) { return row.getBoundingClientRect().top > top; })
                       : starts.length - 1 - starts.slice().reverse().findIndex(function (row) { return row.getBoundingClientRect().top < top; });
      if (index < 0 || index >= starts.length) index = step > 0 ? 0 : starts.length - 1;
    } else {
      index = (index + step + starts.length) % starts.length;
    }
    var row = starts[index];
    row.classList.add("diff-current");
    row.scrollIntoView({ block: "center" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || !document.querySelector(".diff-view")) return;
    if (event.key === "s") {
      var toggle = document.querySelector("[data-diff-toggle]");
      if (toggle) { event.preventDefault(); window.location.href = toggle.href + window.location.hash; }
    } else if (event.key === "n" || event.key === "p") {
      event.preventDefault();
      jump(event.key === "n" ? 1 : -1);
    }
  });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    // A field copies its value; any other element (a <pre> of JSON) its text.
    copyText(source.value !== undefined ? source.value : source.textContent).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  function markTarget() {
    document.querySelectorAll(".diff tr.diff-targeted").forEach(function (row) {
      row.classList.remove("diff-targeted");
    });
    var id = window.location.hash.slice(1);
    var cell = id && /^[bt]\d+$/.test(id) ? document.getElementById(id) : null;
    if (cell) cell.closest("tr").classList.add("diff-targeted");
  }
  window.addEventListener("hashchange", markTarget);
  document.addEventListener("DOMContentLoaded", markTarget);

  // A large compare takes a moment to build: say so, and do not let it be asked twice.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-busy-text]");
    if (!form) return;
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
      button.textContent = form.dataset.busyText;
    }
    form.setAttribute("aria-busy", "true");
  });
})();
