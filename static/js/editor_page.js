// Editor page behaviour: tabs, unsaved-changes tracking, Ctrl/Cmd-S, Run's readiness,
// the failing line, templates and small conveniences. Server rendering does the rest.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const code = () => $("#code");

  // Tabs: every panel is shown without JavaScript; with it, one at a time, as a WAI-ARIA tab
  // list: the chosen tab is selected and in the tab order, the arrow keys (and Home, End) move.
  function showTab(name, focus = false) {
    $$(".panel-tab").forEach((tab) => {
      const chosen = tab.dataset.tab === name;
      tab.classList.toggle("active", chosen);
      tab.setAttribute("aria-selected", String(chosen));
      tab.tabIndex = chosen ? 0 : -1;
      if (chosen && focus) tab.focus();
    });
    $$(".side-panel .panel").forEach((panel) => panel.classList.toggle("active", panel.id === name));
  }

  document.addEventListener("keydown", (event) => {
    const tab = event.target.closest && event.target.closest(".panel-tab");
    if (!tab) return;
    const tabs = $$(".panel-tab");
    const at = tabs.indexOf(tab);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const chosen = tabs[(next + tabs.length) % tabs.length];
    showTab(chosen.dataset.tab, true);
    history.replaceState(null, "", `#${chosen.dataset.tab}`);
  });

  // Unsaved changes: compare with the text last saved.
  let savedText = null;
  let sentText = null;
  function isDirty() {
    return code() && savedText !== null && code().value !== savedText;
  }
  function refreshDirty() {
    const marker = $("#dirty-marker");
    if (marker) marker.hidden = !isDirty();
    document.title = (isDirty() ? "● " : "") + document.title.replace(/^● /, "");
  }

  // Run stays disabled, with the reason shown, until the input is valid.
  function runProblems() {
    const problems = [];
    const missing = $$('#test-values [data-missing="true"]').map((form) => form.dataset.label);
    if (missing.length) problems.push(`Fill in the test value of ${missing.join(", ")}.`);
    $$("#run-form textarea[data-json]").forEach((field) => {
      const text = field.value.trim();
      if (!text) {
        if (field.name === "event") problems.push("Enter an event.");
        return;
      }
      const contentType = $$('#run-form input[name="header_name"]').findIndex((input) => input.value.trim().toLowerCase() === "content-type");
      if (field.name === "body" && contentType >= 0) {
        const value = $$('#run-form input[name="header_value"]')[contentType].value.toLowerCase();
        if (!value.includes("json")) return;
      }
      try {
        JSON.parse(text);
      } catch (error) {
        problems.push(`The ${field.dataset.json} is not valid JSON: ${error.message}`);
      }
    });
    return problems;
  }
  function refreshRun() {
    const button = $("#run-button");
    if (!button) return;
    const problems = runProblems();
    button.disabled = problems.length > 0;
    const reason = $("#run-disabled-reason");
    if (reason) reason.textContent = problems.join(" ");
    button.title = problems.join(" ") || "Run the code in the editor with this input";
  }

  function currentInput() {
    const event = $("#event");
    if (event) return event.value;
    const names = $$('#run-form input[name="header_name"]').map((input) => input.value);
    const values = $$('#run-form input[name="header_value"]').map((input) => input.value);
    const headers = {};
    names.forEach((name, index) => {
      if (name.trim()) headers[name.trim()] = values[index];
    });
    return JSON.stringify({ headers, body: $("#body") ? $("#body").value : "", query: $("#query") ? $("#query").value : "" });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (code()) savedText = code().value;
    const wanted = (location.hash || "#test").slice(1);
    showTab($$(".panel-tab").some((tab) => tab.dataset.tab === wanted) ? wanted : "test");
    refreshRun();
  });

  document.addEventListener("click", (event) => {
    const tab = event.target.closest(".panel-tab");
    if (tab) {
      event.preventDefault();
      showTab(tab.dataset.tab);
      history.replaceState(null, "", `#${tab.dataset.tab}`);
      return;
    }
    const starter = event.target.closest("[data-starter]");
    if (starter) {
      const text = document.getElementById(starter.dataset.starter).value;
      if (code().value === text || confirm(`Replace the code in the editor with the “${starter.dataset.starterName}” template? Unsaved changes will be lost.`)) {
        window.FunctionsEditor.setValue("code", text);
        refreshDirty();
      }
      return;
    }
    // Copy buttons ([data-copy]) are handled on every page by versioning.js.
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      remove.closest("tr").remove();
      refreshRun();
    }
  });

  document.addEventListener("input", (event) => {
    if (event.target === code()) refreshDirty();
    if (event.target.closest("#run-form")) refreshRun();
  });

  document.addEventListener("editor:save", () => {
    const form = $("#save-form");
    if (form && $("#save-button")) form.requestSubmit($("#save-button"));
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      document.dispatchEvent(new CustomEvent("editor:save"));
    }
  });

  window.addEventListener("beforeunload", (event) => {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    // Both Save and Save & Deploy send the editor's text; remember what was sent.
    if (form.id === "save-form" || (form.matches && form.matches("[data-save-and-deploy]"))) {
      sentText = code().value;
    }
    if (form.matches && form.matches("[data-save-payload]")) event.detail.parameters.data = currentInput();
  });

  // The server announces a new version (Save, or Save & Deploy) with an HX-Trigger event.
  document.body.addEventListener("version-saved", () => {
    if (sentText !== null) {
      savedText = sentText;
      refreshDirty();
    }
  });

  // Run uses what is on screen: test values typed but not saved yet are saved first, one after
  // the other, and only then does the run go out.
  document.addEventListener("htmx:confirm", (event) => {
    if (event.target.id !== "run-form") return;
    const dirty = $$("#test-values form.test-value").filter((form) =>
      $$("input[type=text], input[type=password], textarea", form).some(
        (field) => field.value !== field.defaultValue,
      ),
    );
    if (!dirty.length) return;
    event.preventDefault();
    dirty
      .reduce(
        (done, form) =>
          done.then(() =>
            htmx.ajax("POST", form.getAttribute("hx-post"), { source: form, target: "#test-values", swap: "outerHTML" }),
          ),
        Promise.resolve(),
      )
      .then(() => event.detail.issueRequest(true));
  });

  // Run shows its progress: the old result goes, "Running… 1.2 s" counts up, and Cancel stops
  // waiting for the answer (the sandbox ends the run itself at its time limit).
  let runTimer = null;
  function runProgress(text, running) {
    const output = $("#run-output");
    if (!output) return;
    output.innerHTML = "";
    const box = document.createElement("div");
    box.className = "run-progress";
    box.setAttribute("role", "status");
    const label = document.createElement("span");
    label.id = "run-elapsed";
    label.textContent = text;
    box.append(label);
    if (running) {
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "btn btn-sm";
      cancel.id = "run-cancel";
      cancel.textContent = "Cancel";
      box.append(cancel);
    }
    output.append(box);
  }
  function stopRunTimer() {
    if (runTimer) clearInterval(runTimer);
    runTimer = null;
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.id !== "run-form") return;
    const started = performance.now();
    runProgress("Running… 0.0 s", true);
    stopRunTimer();
    runTimer = setInterval(() => {
      const label = $("#run-elapsed");
      if (label) label.textContent = `Running… ${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 100);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt.id === "run-form") stopRunTimer();
  });
  document.addEventListener("htmx:abort", (event) => {
    if (event.target.id === "run-form") stopRunTimer();
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#run-cancel")) return;
    htmx.trigger("#run-form", "htmx:abort");
    stopRunTimer();
    runProgress("Cancelled: no result is shown. Run again when you are ready.", false);
    refreshRun();
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "save-status" && $("[data-saved]", target) && sentText !== null) {
      savedText = sentText;
      refreshDirty();
    }
    if (target.id === "save-status") {
      // A saved version that cannot deploy yet: mark the line the check named (or clear it).
      const problem = $("[data-problem-line]", target);
      const line = problem && parseInt(problem.dataset.problemLine, 10);
      window.FunctionsEditor.highlightLine("code", line || null);
    }
    if (target.id === "run-output") {
      const result = $("#run-result");
      const line = result && parseInt(result.dataset.errorLine, 10);
      window.FunctionsEditor.highlightLine("code", line || null);
    }
    refreshRun();
  });
})();
