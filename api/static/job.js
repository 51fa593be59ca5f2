"use strict";
// The job page: curves drawn with uPlot from GET /v1/jobs/{id}/events, and
// a cancel button that calls POST /v1/jobs/{id}/cancel.
(() => {
  const root = document.getElementById("job");
  const jobId = root.dataset.jobId;
  const quality = root.dataset.quality;
  const FINAL = new Set(["succeeded", "failed", "cancelled"]);
  // Okabe-Ito colours stay apart under the common colour-vision deficiencies;
  // validation curves are also dashed, so colour is never the only cue.
  const COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"];

  // Whole epochs only on the x axis.
  const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

  const el = (id) => document.getElementById(id);
  const statusEl = el("status");
  const cancelButton = el("cancel");
  const notice = el("notice");

  // Epoch number -> that epoch's event data; a requeued job's later attempt
  // replaces the rows of the epochs it runs again.
  const epochs = new Map();
  const charts = {};
  let layerNames = [];
  let drawPending = false;

  function line(label, index, dashed) {
    const series = { label, stroke: COLORS[index % COLORS.length], width: 2, spanGaps: true };
    if (dashed) series.dash = [6, 4];
    return series;
  }

  function tick(value) {
    // Three significant digits, so 0.0015 never shows as 0.002.
    return value == null ? "" : String(Number(value.toPrecision(3)));
  }

  function chartWidth(target) {
    return Math.max(280, Math.min(target.clientWidth || 480, 640));
  }

  function makeChart(id, yLabel, series, log) {
    const target = el(id);
    const options = {
      width: chartWidth(target),
      height: 240,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [
        { label: "epoch", incrs: EPOCH_STEPS },
        // Wide enough for "0.0015" beside the axis label.
        { label: yLabel, size: 64, values: (u, ticks) => ticks.map(tick) },
      ],
      series: [{ label: "epoch" }, ...series],
    };
    return new uPlot(options, [[], ...series.map(() => [])], target);
  }

  charts.loss = makeChart("chart-loss", "loss", [line("loss", 0), line("val_loss", 1, true)]);
  charts.quality = makeChart("chart-quality", root.dataset.qualityTitle, [
    line(quality, 0),
    line("val_" + quality, 1, true),
  ]);
  charts.lr = makeChart("chart-lr", "learning rate", [line("lr", 2)]);
  charts.gradients = makeChart("chart-gradients", "grad_norm", [], true);

  function layerIndex(name) {
    return Number(name.split(".")[1]);
  }

  function namesOf(rows) {
    const names = new Set();
    for (const row of rows) Object.keys(row.layers || {}).forEach((name) => names.add(name));
    return [...names].sort((a, b) => layerIndex(a) - layerIndex(b));
  }

  function positive(value) {
    // A log scale has no place for zero; a gap says "no gradient" instead.
    return typeof value === "number" && value > 0 ? value : null;
  }

  function draw() {
    drawPending = false;
    const order = [...epochs.keys()].sort((a, b) => a - b);
    const rows = order.map((epoch) => epochs.get(epoch));
    const column = (pick) => rows.map((row) => pick(row) ?? null);
    charts.loss.setData([order, column((r) => r.metrics.loss), column((r) => r.metrics.val_loss)]);
    charts.quality.setData([
      order,
      column((r) => r.metrics[quality]),
      column((r) => r.metrics["val_" + quality]),
    ]);
    charts.lr.setData([order, column((r) => r.metrics.lr)]);

    const names = namesOf(rows);
    if (names.join() !== layerNames.join()) {
      layerNames = names;
      charts.gradients.destroy();
      charts.gradients = makeChart(
        "chart-gradients",
        "grad_norm",
        names.map((name, index) => line(name, index)),
        true,
      );
    }
    charts.gradients.setData([
      order,
      ...names.map((name) => column((r) => positive(r.layers?.[name]?.grad_norm))),
    ]);
    if (rows.length) showLatest(rows[rows.length - 1]);
  }

  function scheduleDraw() {
    // Many events arrive at once when a stream replays a long job: draw once.
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(draw);
    }
  }

  function showLatest(row) {
    const body = el("latest").tBodies[0];
    const cells = Object.entries(row.metrics).map(([name, value]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      const td = document.createElement("td");
      td.className = "num";
      td.textContent = typeof value === "number" ? Number(value.toPrecision(4)).toString() : "—";
      tr.append(th, td);
      return tr;
    });
    body.replaceChildren(...cells);
  }

  function showEpoch(epoch) {
    el("progress").value = epoch;
    el("epoch").textContent = epoch;
  }

  function showStatus(data) {
    statusEl.textContent = data.status;
    statusEl.className = `status status-${data.status}`;
    root.dataset.status = data.status;
    showEpoch(data.epoch);
    if (data.error) {
      el("error").hidden = false;
      el("error").textContent = data.error;
    }
    if (data.model_id) {
      const link = document.createElement("a");
      link.href = `/models/${data.model_id}`;
      link.textContent = data.model_id;
      el("model").replaceChildren(link);
    }
    if (FINAL.has(data.status)) {
      source.close();
      cancelButton.disabled = true;
    }
  }

  const source = new EventSource(`/v1/jobs/${jobId}/events`);
  source.addEventListener("epoch", (event) => {
    const data = JSON.parse(event.data);
    epochs.set(data.epoch, data);
    showEpoch(data.epoch);
    scheduleDraw();
  });
  source.addEventListener("status", (event) => showStatus(JSON.parse(event.data)));
  // The browser reconnects by itself, sending Last-Event-ID: no gap, no repeat.
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) notice.textContent = "Connection lost; reconnecting…";
  });
  source.addEventListener("open", () => {
    if (notice.textContent.startsWith("Connection lost")) notice.textContent = "";
  });

  cancelButton.addEventListener("click", async () => {
    cancelButton.disabled = true;
    notice.textContent = "Cancelling…";
    try {
      const response = await fetch(`/v1/jobs/${jobId}/cancel`, {
        method: "POST",
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || response.statusText);
      notice.textContent =
        body.status === "cancelled" ? "Cancelled." : "Cancel requested: the worker stops between two batches.";
    } catch (error) {
      notice.textContent = `Could not cancel: ${error.message}`;
      cancelButton.disabled = FINAL.has(root.dataset.status);
    }
  });

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [id, chart] of Object.entries(charts)) {
        chart.setSize({ width: chartWidth(el(`chart-${id}`)), height: 240 });
      }
    }, 150);
  });

  // For tests and the curious: the charts and what they were drawn from.
  window.descentJob = { charts, epochs, source };
})();
