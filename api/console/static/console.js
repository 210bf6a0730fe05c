// Enodo console: refresh each page's live part, draw the series chart. No framework.
"use strict";

const POLL_MS = Number(document.body.dataset.poll || 5) * 1000;

// Re-fetch the live fragment of this page (same URL with part=live) and swap it in.
function pollLive(box) {
  const url = new URL(window.location.href);
  url.searchParams.set("part", "live");
  url.searchParams.delete("done");
  url.searchParams.delete("error");
  fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
    .then((resp) => {
      if (resp.status === 401 || resp.redirected) { window.location.reload(); return null; }
      return resp.ok ? resp.text() : null;
    })
    .then((html) => { if (html !== null) { box.innerHTML = html; box.dataset.updated = Date.now(); } })
    .catch(() => {})  // the next poll tries again; the page keeps what it shows
    .finally(() => setTimeout(() => pollLive(box), POLL_MS));
}

function chartTraces(d) {
  const f = d.forecast, a = d.anomalies;
  return [
    {name: "history", x: d.history.x, y: d.history.y, mode: "lines", line: {color: "#1f4e79"}},
    {name: "upper", x: f.x, y: f.upper, mode: "lines", line: {width: 0}, showlegend: false,
     hoverinfo: "skip"},
    {name: "interval", x: f.x, y: f.lower, mode: "lines", line: {width: 0}, fill: "tonexty",
     fillcolor: "rgba(230,126,34,0.25)"},
    {name: "forecast", x: f.x, y: f.mean, customdata: f.ts, mode: "lines",
     line: {color: "#e67e22", dash: "dot"}},
    {name: "anomalies", x: a.x, y: a.y, customdata: a.ts, text: a.score, mode: "markers",
     marker: {color: "#c0392b", size: 9, symbol: "x"},
     hovertemplate: "%{x}<br>value %{y}<br>score %{text}<extra>anomaly</extra>"},
  ];
}

function chartLayout(d) {
  // An event spans start..end; a one-point event (start == end) is drawn as a line.
  const shapes = d.events.map((e) => ({
    type: e.x0 === e.x1 ? "line" : "rect", xref: "x", yref: "paper", x0: e.x0, x1: e.x1,
    y0: 0, y1: 1, layer: "below",
    fillcolor: e.state === "open" ? "rgba(192,57,43,0.18)" : "rgba(192,57,43,0.08)",
    line: e.x0 === e.x1 ? {color: "rgba(192,57,43,0.5)", width: 2, dash: "dot"} : {width: 0}}));
  return {margin: {t: 20, r: 10, b: 40, l: 50}, height: 360, shapes: shapes,
          legend: {orientation: "h"}, xaxis: {type: "date"}};
}

function drawChart(box) {
  fetch(box.dataset.src, {credentials: "same-origin"})
    .then((resp) => resp.ok ? resp.json() : Promise.reject(resp.status))
    .then((d) => {
      window.Plotly.react(box, chartTraces(d), chartLayout(d), {displaylogo: false, responsive: true});
      const note = document.getElementById("chart-note");
      note.textContent = d.history.error ? "History not shown: " + d.history.error :
        d.forecast.x.length + " forecast points (" + Math.round((d.forecast.level || 0) * 100) +
        "% interval), " + d.anomalies.x.length + " anomalies, " + d.events.length + " events";
      box.dataset.ready = "1";
    })
    .catch(() => {})
    .finally(() => setTimeout(() => drawChart(box), POLL_MS));
}

document.querySelectorAll("[data-live]").forEach((box) => setTimeout(() => pollLive(box), POLL_MS));
const chart = document.getElementById("chart");
if (chart && window.Plotly) { drawChart(chart); }
