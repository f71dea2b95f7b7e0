// videobot dashboard: live queue rows (server-sent events), confirmations, filters.
"use strict";

function followQueue() {
  const table = document.querySelector("table[data-stream]");
  if (!table || !window.EventSource) return;
  const rows = document.getElementById("queue-rows");
  const summary = document.getElementById("queue-summary");
  const pause = document.getElementById("pause-form");
  const source = new EventSource(table.dataset.stream);
  source.addEventListener("queue", (event) => {
    const data = JSON.parse(event.data);
    rows.innerHTML = data.rows; // rendered and escaped by the server's templates
    summary.textContent = data.summary;
    if (pause) {
      const state = data.paused ? "resume" : "pause";
      const button = pause.querySelector("button");
      pause.action = pause.dataset[state];
      button.textContent = button.dataset[state];
    }
  });
  window.addEventListener("pagehide", () => source.close());
}

function confirmForms() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

function submitFiltersOnChange() {
  for (const select of document.querySelectorAll("form.filters select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
}

document.addEventListener("DOMContentLoaded", () => {
  followQueue();
  confirmForms();
  submitFiltersOnChange();
});
