"use strict";
// The model page's form: one row of raw features to POST /v1/models/{id}/predict.
(() => {
  const form = document.getElementById("predict");
  const output = document.getElementById("prediction");
  const modelId = form.dataset.modelId;

  function cell(text) {
    const value = text.trim();
    if (value === "") return null;
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }

  function table(caption, headers, rows) {
    const result = document.createElement("table");
    result.createCaption().textContent = caption;
    const head = result.createTHead().insertRow();
    for (const text of headers) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.append(th);
    }
    const body = result.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      row.forEach((text) => (tr.insertCell().textContent = text));
    }
    return result;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // A record by feature name: numbers as numbers, categories as text.
    const record = Object.fromEntries(
      [...form.querySelectorAll("input[data-feature]")].map((input) => [input.dataset.feature, cell(input.value)]),
    );
    output.textContent = "Predicting…";
    try {
      const response = await fetch(`/v1/models/${modelId}/predict`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ inputs: [record] }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || response.statusText);
      const answer = document.createElement("p");
      answer.id = "predicted";
      answer.textContent = `Prediction: ${body.predictions[0]}`;
      const parts = [answer];
      if (body.probabilities) {
        const classes = JSON.parse(form.dataset.classes);
        const rows = classes.map((label, i) => [String(label), body.probabilities[0][i].toFixed(4)]);
        parts.push(table("Probability of each class", ["Class", "Probability"], rows));
      }
      output.replaceChildren(...parts);
    } catch (error) {
      const message = document.createElement("p");
      message.className = "error";
      message.setAttribute("role", "alert");
      message.textContent = `Could not predict: ${error.message}`;
      output.replaceChildren(message);
    }
  });
})();
