// The import page: sends the file, then follows the import until it ends.
(function () {
  var form = document.getElementById('upload');
  if (!form) return;
  var job = document.getElementById('job');
  var bar = document.getElementById('bar');
  var pct = document.getElementById('pct');
  var outcome = document.getElementById('outcome');
  var errorsBox = document.getElementById('errors-box');
  var errors = document.getElementById('errors');
  function cell(tr, text) { var td = document.createElement('td'); td.textContent = text; tr.appendChild(td); }
  function follow(id) {
    fetch('/imports/jobs/' + id, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (s) {
      var p = s.total > 0 ? Math.floor(100 * s.done / s.total) : 0;
      bar.value = p; pct.textContent = p + '% · ' + s.rows;
      if (!s.finished) { setTimeout(function () { follow(id); }, 400); return; }
      bar.value = 100;
      outcome.textContent = s.message;
      outcome.className = s.ok ? 'fresh' : 'error';
      errors.textContent = '';
      (s.errors || []).forEach(function (e) {
        var tr = document.createElement('tr');
        cell(tr, e.row); cell(tr, e.column); cell(tr, e.value); cell(tr, e.reason);
        errors.appendChild(tr);
      });
      errorsBox.hidden = !(s.errors && s.errors.length);
      form.querySelector('button').disabled = false;
    });
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = form.file.files[0];
    if (!file) return;
    form.querySelector('button').disabled = true;
    job.hidden = false; bar.value = 0; pct.textContent = ''; outcome.textContent = ''; errorsBox.hidden = true;
    var url = '/imports/upload?kind=' + encodeURIComponent(form.kind.value) + '&name=' + encodeURIComponent(file.name);
    fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': form.dataset.csrf }, body: file })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.job) { follow(s.job); } else { outcome.textContent = s.error; outcome.className = 'error'; form.querySelector('button').disabled = false; }
      });
  });
})();

// Charts: each [data-chart] element holds its data as JSON
// ({x: [...], y: [axis names], series: [{name, type, data, y}]}); the same
// numbers are in the table beside it. Drawn at load and again whenever htmx
// swaps a part of the page in.
function drawCharts(root) {
  if (!window.echarts) return;
  root.querySelectorAll('[data-chart]').forEach(function (el) {
    if (el.dataset.drawn) return;
    el.dataset.drawn = '1';
    var spec = JSON.parse(el.dataset.chart);
    var chart = echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 56, right: spec.y.length > 1 ? 56 : 16, top: 36, bottom: 40 },
      xAxis: { type: 'category', data: spec.x, axisLabel: { hideOverlap: true } },
      yAxis: spec.y.map(function (name) { return { type: 'value', name: name, splitLine: { show: false } }; }),
      series: spec.series.map(function (s) {
        return { name: s.name, type: s.type, data: s.data, yAxisIndex: s.y || 0, smooth: false, showSymbol: false };
      })
    });
    window.addEventListener('resize', function () { chart.resize(); });
  });
}
drawCharts(document);
document.addEventListener('htmx:afterSettle', function (ev) {
  drawCharts(ev.target);
  // The language switch comes back to the page as it is now.
  var lang = document.querySelector('a.lang');
  if (lang) lang.href = lang.pathname + '?next=' + encodeURIComponent(location.pathname + location.search);
});
