// The code editor: CodeMirror 6 over plain textareas, bundled by `make` with esbuild into
// static/build/editor.js. Without JavaScript the textareas still work as they are.
import { indentWithTab } from "@codemirror/commands";
import { javascript } from "@codemirror/lang-javascript";
import { json } from "@codemirror/lang-json";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";

const setErrorLine = StateEffect.define();
const errorLineMark = Decoration.line({ class: "cm-error-line" });

const errorLineField = StateField.define({
  create: () => Decoration.none,
  update(decorations, transaction) {
    decorations = decorations.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(setErrorLine)) {
        const line = effect.value;
        if (!line || line < 1 || line > transaction.state.doc.lines) return Decoration.none;
        return Decoration.set([errorLineMark.range(transaction.state.doc.line(line).from)]);
      }
    }
    // The mark belongs to the code that failed; editing clears it.
    return transaction.docChanged ? Decoration.none : decorations;
  },
  provide: (field) => EditorView.decorations.from(field),
});

const editors = new Map();

function mount(textarea) {
  const existing = editors.get(textarea.id);
  // A textarea htmx swapped in replaces the one the old view was made for: mount it afresh.
  if (existing && existing.dom.isConnected && textarea.classList.contains("cm-mounted")) return existing;
  if (existing) existing.destroy();
  const language = textarea.dataset.editor === "json" ? json() : javascript();
  const readOnly = textarea.readOnly || textarea.dataset.readonly === "true";
  const view = new EditorView({
    parent: textarea.parentNode,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        basicSetup,
        language,
        // Ctrl/Cmd-S is handled once, on the document, by the page script.
        keymap.of([indentWithTab]),
        errorLineField,
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
        EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label") || "Code" }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  view.dom.classList.add(`cm-${textarea.dataset.editor || "javascript"}`);
  // The scroller takes the focus too, so that the keys scroll a long text (read-only or not).
  view.scrollDOM.tabIndex = 0;
  if (textarea.dataset.editorHeight) view.dom.style.height = textarea.dataset.editorHeight;
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  textarea.classList.add("cm-mounted");
  editors.set(textarea.id, view);
  return view;
}

function mountAll(root) {
  if (root.matches && root.matches("textarea[data-editor]")) mount(root);
  root.querySelectorAll("textarea[data-editor]").forEach(mount);
}

function setValue(id, text) {
  const view = editors.get(id);
  const textarea = document.getElementById(id);
  if (!view) {
    textarea.value = text;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    return;
  }
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

function highlightLine(id, line) {
  const view = editors.get(id);
  if (!view) return;
  view.dispatch({ effects: setErrorLine.of(line) });
  if (line && line <= view.state.doc.lines) {
    view.dispatch({ effects: EditorView.scrollIntoView(view.state.doc.line(line).from, { y: "center" }) });
  }
}

window.FunctionsEditor = { mount, mountAll, setValue, highlightLine, editors };

document.addEventListener("DOMContentLoaded", () => mountAll(document));
// htmx:load names the new content (an outerHTML swap's target is the element it replaced).
document.addEventListener("htmx:load", (event) => mountAll(event.target));
