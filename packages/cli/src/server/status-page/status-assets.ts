/**
 * The page's stylesheet and script, served from the package at /ui/ (no
 * CDN: the page works offline and behind a strict Content-Security-Policy).
 * Colours meet WCAG AA contrast on white (4.5:1 and more); one column below
 * 40em, tables scroll inside their box, so nothing is wider than a phone.
 */
export const STATUS_CSS = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4d4d4d; --line: #c8c8c8; --ok: #1b6e20; --bad: #b00020; --warn: #8a4b00; --size: #1f5fbf; --dur: #a34f00; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
header.top, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: .5rem; }
h1 { font-size: 1.5rem; margin: .75rem 0 .25rem; }
h2 { font-size: 1.25rem; margin: 0 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
.job-name { color: var(--muted); font-weight: normal; font-size: .9em; }
.overall, .schedule { margin: .25rem 0; }
.status-ok strong { color: var(--ok); } .status-failing strong, .status-stale strong { color: var(--bad); }
section.job { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 .75rem; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.result-succeeded, .result-passed { color: var(--ok); font-weight: 600; }
.result-failed { color: var(--bad); font-weight: 600; } .result-skipped { color: var(--warn); font-weight: 600; }
.error-line { color: var(--bad); }
.notice { padding: .5rem .75rem; border-radius: 4px; border: 1px solid var(--line); }
.notice-ok { border-color: var(--ok); } .notice-error { border-color: var(--bad); color: var(--bad); }
.table-wrap { overflow-x: auto; max-width: 100%; }
table.backups { border-collapse: collapse; width: 100%; font-size: .95rem; }
table.backups caption { text-align: left; font-weight: 600; padding: .25rem 0; }
table.backups th, table.backups td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.backups thead th { color: var(--muted); font-weight: 600; }
.mark { display: inline-block; padding: 0 .35rem; border-radius: 3px; font-size: .85rem; border: 1px solid currentColor; }
.mark-verified { color: var(--ok); } .mark-failed, .mark-anomaly { color: var(--bad); }
figure.chart { margin: .5rem 0 1rem; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { color: var(--muted); font-size: .9rem; }
.chart-tip { min-height: 1.45em; margin: .25rem 0 0; font-size: .95rem; }
.legend-size { color: var(--size); } .legend-duration { color: var(--dur); }
.chart .grid { stroke: #e3e3e3; stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 11px; }
.chart .line-size { fill: none; stroke: var(--size); stroke-width: 1.5; }
.chart .line-duration { fill: none; stroke: var(--dur); stroke-width: 1.2; stroke-dasharray: 5 3; }
.chart .dot-size { fill: var(--size); stroke: transparent; stroke-width: 8; }
.chart .dot-duration { fill: var(--dur); stroke: transparent; stroke-width: 6; }
.chart .flagged .dot-size { fill: var(--bad); }
.chart .pt:hover circle { stroke: #f0a000; stroke-width: 3; }
form.action, form.auth, form.login { margin: .5rem 0; }
form.login { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
input[type=password] { font: inherit; padding: .35rem .5rem; border: 1px solid #767676; border-radius: 4px; min-width: 0; max-width: 100%; }
button { font: inherit; padding: .35rem .75rem; border: 1px solid #0b3d91; border-radius: 4px; background: #0b57d0; color: #fff; cursor: pointer; }
button:focus-visible, input:focus-visible, a:focus-visible, summary:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
table.backups button { padding: .1rem .5rem; }
a { color: #0b57d0; }
footer { color: var(--muted); font-size: .9rem; padding-bottom: 2rem; }
code { font-size: .9em; overflow-wrap: anywhere; }
@media (max-width: 40em) {
  dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .35rem; }
  section.job { padding: .5rem .6rem; }
}
`;

/**
 * Progressive enhancement only: the chart's points carry a <title> (the
 * browser's own tooltip); this shows the same text in the line under the
 * chart as the pointer or focus reaches a point.
 */
export const STATUS_JS = `
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('figure.chart').forEach(function (figure) {
    var tip = figure.querySelector('.chart-tip');
    if (!tip) return;
    var show = function (event) {
      var point = event.target.closest && event.target.closest('.pt');
      if (!point) return;
      var title = point.querySelector('title');
      tip.textContent = title ? title.textContent : '';
    };
    figure.addEventListener('mouseover', show);
    figure.addEventListener('focusin', show);
  });
});
`;
