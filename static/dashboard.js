// The metrics dashboard's charts (/admin/metrics-dashboard). The page works
// without this file: every figure is in the server-rendered tables. With it,
// Chart.js draws the latency, pool and slow-operation charts from the JSON
// the server puts in #metrics-chart-data's data-chart attribute (an attribute,
// not a <script> data block: htmx strips script elements from swapped content
// when allowScriptTags is off), and redraws them each time htmx swaps in
// fresh figures (every 10 s). No inline script, no eval:
// the page's Content-Security-Policy stays strict.
(function () {
  'use strict';
  var charts = {};
  var TYPES = ['database', 'http', 'render'];

  function readData() {
    var el = document.getElementById('metrics-chart-data');
    if (!el) return null;
    try { return JSON.parse(el.getAttribute('data-chart')); } catch (e) { return null; }
  }

  function upsert(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].update('none');
    } else {
      charts[id] = new window.Chart(canvas, config);
    }
  }

  function draw() {
    if (!window.Chart) return;
    var data = readData();
    if (!data) return;
    document.getElementById('metrics-charts').hidden = false;
    var m = data.metrics || {};
    var pick = function (key) { return TYPES.map(function (t) { return m[t] ? m[t][key] : 0; }); };
    upsert('chart-latency', {
      type: 'bar',
      data: {
        labels: TYPES,
        datasets: [
          { label: 'p50', data: pick('p50_ms') },
          { label: 'p95', data: pick('p95_ms') },
          { label: 'p99', data: pick('p99_ms') }
        ]
      },
      options: { animation: false, responsive: false, scales: { y: { beginAtZero: true, title: { display: true, text: 'ms' } } } }
    });
    var pool = data.pool || {};
    upsert('chart-pool', {
      type: 'bar',
      data: {
        labels: ['in use', 'idle', 'size'],
        datasets: [{ label: 'connections', data: [pool.in_use || 0, pool.idle || 0, pool.size || 0] }]
      },
      options: { animation: false, responsive: false, indexAxis: 'y', scales: { x: { beginAtZero: true } } }
    });
    var slow = data.slow || [];
    upsert('chart-slow', {
      type: 'bar',
      data: {
        labels: slow.length ? slow.map(function (s) { return s.type + ': ' + s.name; }) : ['none'],
        datasets: [{ label: 'ms', data: slow.length ? slow.map(function (s) { return s.duration_ms; }) : [0] }]
      },
      options: { animation: false, responsive: false, indexAxis: 'y', scales: { x: { beginAtZero: true } } }
    });
  }

  document.addEventListener('DOMContentLoaded', draw);
  document.addEventListener('htmx:afterSettle', function (ev) {
    if (ev.target && ev.target.id === 'metrics-figures') draw();
  });
})();
