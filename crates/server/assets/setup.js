// Setup pages work without this script; it adds Show/Hide and Copy for secrets, live
// "select all" boxes and live "Find it fast" filtering.
"use strict";

function announce(message) {
  const status = document.querySelector("[data-copy-status]");
  if (status) {
    status.textContent = message;
  }
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    announce(what + " copied to the clipboard.");
  } catch (error) {
    announce("Could not copy: select the text and copy it yourself.");
  }
}

function setUpSecrets() {
  document.querySelectorAll("[data-toggle-secret]").forEach((button) => {
    const field = document.getElementById(button.getAttribute("aria-controls"));
    button.hidden = false;
    button.addEventListener("click", () => {
      const show = field.type === "password";
      field.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", String(show));
      document.querySelectorAll("[data-secret-value]").forEach((el) => { el.hidden = !show; });
      document.querySelectorAll("[data-secret-mask]").forEach((el) => { el.hidden = show; });
    });
  });
  document.querySelectorAll("[data-copy-target]").forEach((button) => {
    const target = document.getElementById(button.dataset.copyTarget);
    button.hidden = false;
    button.addEventListener("click", () => {
      const text = "value" in target ? target.value : target.textContent;
      const label = button.closest("dd")?.previousElementSibling?.textContent || "Text";
      copy(text.trim(), label);
    });
  });
  document.querySelectorAll("[data-copy-text]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => copy(button.dataset.copyText, "Command"));
  });
}

function setUpScopeChecklist() {
  const all = document.querySelector("[data-select-all]");
  const groups = [...document.querySelectorAll("[data-group]")];
  if (!all || groups.length === 0) {
    return;
  }
  const scopeBoxes = (group) => [...group.querySelectorAll('input[name="scope"]')];
  // "Select all" on a client credentials client means every API scope: there is no user for
  // the OpenID Connect scopes to be about.
  const fieldset = all.closest("[data-kind]");
  const grant = document.querySelector("[data-grant-type]");
  const kind = () => (grant ? grant.value : fieldset.dataset.kind);
  const selectable = () =>
    groups.filter((group) => !(kind() === "client_credentials" && group.dataset.group === fieldset.dataset.openidGroup));
  const sync = () => {
    let everything = true;
    let anything = false;
    for (const group of groups) {
      const boxes = scopeBoxes(group);
      const ticked = boxes.filter((box) => box.checked).length;
      const groupBox = group.querySelector("[data-group-all]");
      groupBox.checked = ticked === boxes.length;
      groupBox.indeterminate = ticked > 0 && ticked < boxes.length;
      anything = anything || ticked > 0;
    }
    for (const group of selectable()) {
      everything = everything && scopeBoxes(group).every((box) => box.checked);
    }
    all.checked = everything;
    all.indeterminate = anything && !everything;
  };
  all.addEventListener("change", () => {
    selectable().forEach((group) => scopeBoxes(group).forEach((box) => { box.checked = all.checked; }));
    sync();
  });
  if (grant) {
    grant.addEventListener("change", sync);
  }
  // The filter box narrows the checklist to the scopes whose name or description holds
  // every word typed; ticked boxes stay ticked while hidden.
  const filter = document.querySelector("[data-scope-filter]");
  if (filter) {
    filter.closest("[hidden]")?.removeAttribute("hidden");
    filter.addEventListener("input", () => {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      for (const group of groups) {
        let shown = 0;
        group.querySelectorAll("li[data-scope]").forEach((item) => {
          const text = item.dataset.scope.toLowerCase();
          item.hidden = !words.every((word) => text.includes(word));
          shown += item.hidden ? 0 : 1;
        });
        group.hidden = shown === 0;
      }
    });
  }
  for (const group of groups) {
    const groupBox = group.querySelector("[data-group-all]");
    groupBox.addEventListener("change", () => {
      scopeBoxes(group).forEach((box) => { box.checked = groupBox.checked; });
      sync();
    });
    scopeBoxes(group).forEach((box) => box.addEventListener("change", sync));
  }
  // The boxes are the truth from here on: the group and "all" boxes only mirror them.
  const form = all.closest("form");
  form.addEventListener("submit", () => {
    all.disabled = true;
    groups.forEach((group) => { group.querySelector("[data-group-all]").disabled = true; });
  });
  sync();
}

function setUpGrantType() {
  const select = document.querySelector("[data-grant-type]");
  if (!select) {
    return;
  }
  const show = () => {
    document.querySelectorAll("[data-grant-only]").forEach((el) => {
      el.hidden = !el.dataset.grantOnly.split(" ").includes(select.value);
    });
  };
  select.addEventListener("change", show);
  show();
}

function setUpFind() {
  const input = document.querySelector("[data-find]");
  if (!input) {
    return;
  }
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("[data-entry]").forEach((entry) => {
      const text = entry.dataset.entry.toLowerCase();
      entry.hidden = !words.every((word) => text.includes(word));
    });
  });
}

// After a refused save, keyboard and screen-reader users land on the list of what to fix.
function focusErrors() {
  const summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  focusErrors();
  setUpSecrets();
  setUpScopeChecklist();
  setUpGrantType();
  setUpFind();
});
