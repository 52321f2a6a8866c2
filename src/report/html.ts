// report.html: one static, self-contained page (no network; works from file:// and as a CI
// artifact). The data is embedded as JSON and rendered by a small script with DOM APIs and
// textContent only, so nothing a learner wrote is ever parsed as HTML. A matrix of submissions ×
// checks, coloured by status; click a header to sort, filters for failed-only and one group;
// per-group pass rates; a click on a cell opens its message, hint, location and diagnostics.
import type { CheckStatus } from '../model.js';
import { batchExitCode, groupPassRates, sortEntries, type BatchOutcome } from './batch.js';
import { formatLocation } from './groups.js';

interface CellData {
  s: CheckStatus;
  p: number;
  m: string;
  h?: string;
  l?: string;
  d?: string;
}

export interface ReportData {
  lab: string;
  exitCode: number;
  stopped?: string;
  checks: Array<{ id: string; group: string; title: string; max: number }>;
  rates: Array<{ group: string; passed: number; graded: number }>;
  rows: Array<{ name: string; dir: string; score: number | null; max: number | null; exit: number; ms: number; note?: string; cells: Record<string, CellData> }>;
}

export function reportData(outcome: BatchOutcome): ReportData {
  const checks = outcome.lab.checks.map((c) => ({ id: c.id, group: c.group, title: c.title, max: c.maxPoints }));
  const rows = sortEntries(outcome.entries).map((e) => {
    const cells: Record<string, CellData> = {};
    for (const c of e.run?.checks ?? []) {
      cells[c.id] = {
        s: c.status,
        p: c.points,
        m: c.message,
        ...(c.hint ? { h: c.hint } : {}),
        ...(c.location ? { l: formatLocation(c.location) } : {}),
        ...(c.diagnostics ? { d: c.diagnostics } : {}),
      };
    }
    const note = e.state === 'not-graded' ? `not graded: ${e.reason ?? ''}` : e.reason;
    return {
      name: e.name,
      dir: e.dir,
      score: e.run ? e.run.score : null,
      max: e.run ? e.run.maxScore : null,
      exit: e.exitCode,
      ms: e.durationMs,
      ...(note ? { note } : {}),
      cells,
    };
  });
  return {
    lab: outcome.lab.id,
    exitCode: batchExitCode(outcome),
    ...(outcome.stopped ? { stopped: outcome.stopped } : {}),
    checks,
    rates: groupPassRates(outcome),
    rows,
  };
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function renderReportHtml(outcome: BatchOutcome): string {
  const data = reportData(outcome);
  const title = `lab-grader batch: ${data.lab}`.replace(/[<>&]/g, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${title}</h1><p id="overview"></p></header>
<section id="controls">
  <label><input type="checkbox" id="failed-only"> failed only</label>
  <label>group <select id="group"><option value="">all groups</option></select></label>
  <span id="shown"></span>
</section>
<section><h2>Pass rate per group</h2><table id="rates"></table></section>
<section><h2>Submissions × checks</h2><div class="scroll"><table id="matrix"></table></div>
<p class="legend"><span class="st passed">✔</span> passed <span class="st failed">✘</span> failed <span class="st error">!</span> error (not decided) <span class="st skipped">–</span> not run <span class="st none">·</span> not graded. Click a cell for details, a header to sort.</p></section>
<aside id="details" hidden><button id="close" aria-label="close">×</button><h2 id="d-title"></h2><p id="d-status"></p><h3>Message</h3><pre id="d-message"></pre><div id="d-hint-box"><h3>Hint</h3><p id="d-hint"></p></div><div id="d-loc-box"><h3>Location</h3><p id="d-loc"></p></div><div id="d-diag-box"><h3>Diagnostics</h3><pre id="d-diag"></pre></div></aside>
<script type="application/json" id="data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1rem;color:#1b1f24}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem}
table{border-collapse:collapse}
th,td{border:1px solid #d0d7de;padding:2px 6px;text-align:center;white-space:nowrap}
th{background:#f6f8fa;cursor:pointer;user-select:none}
th.check{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;max-height:14rem}
td.name,th.name{text-align:left;position:sticky;left:0;background:#fff}
.scroll{overflow:auto;max-width:100%}
td.cell{cursor:pointer;min-width:1.6rem}
.passed{background:#dafbe1;color:#116329}.failed{background:#ffebe9;color:#a40e26}
.error{background:#fff8c5;color:#7d4e00}.skipped{background:#eaeef2;color:#57606a}.none{background:#fff;color:#8c959f}
.st{display:inline-block;width:1.2rem;text-align:center;border-radius:3px}
td.cell.selected{outline:2px solid #0969da}
#controls{display:flex;gap:1.5rem;align-items:center;margin:.5rem 0}
#details{position:fixed;right:0;top:0;bottom:0;width:min(40rem,90vw);overflow:auto;background:#fff;border-left:2px solid #d0d7de;padding:1rem;box-shadow:-4px 0 12px #0002}
#details pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;font-size:12px}
#close{float:right;font-size:1.2rem}
.bar{display:inline-block;height:.7rem;background:#2da44e;vertical-align:middle}
.bar.rest{background:#cf222e}
`;

// Plain ES2020 in the page; the data's strings only ever reach textContent.
const SCRIPT = `
(function(){
'use strict';
var data=JSON.parse(document.getElementById('data').textContent);
var SYM={passed:'\\u2714',failed:'\\u2718',error:'!',skipped:'\\u2013'};
var RANK={failed:0,error:1,skipped:2,passed:3};
var state={failedOnly:false,group:'',sortKey:'name',sortDir:1};
function el(tag,attrs,text){var e=document.createElement(tag);if(attrs)for(var k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=String(text);return e;}
function groups(){var g=[];data.checks.forEach(function(c){if(g.indexOf(c.group)<0)g.push(c.group);});return g;}
function visibleChecks(){return data.checks.filter(function(c){return !state.group||c.group===state.group;});}
function rowFails(r,checks){if(!checks.length)return r.exit!==0;if(!Object.keys(r.cells).length)return true;return checks.some(function(c){var x=r.cells[c.id];return !x||x.s!=='passed';});}
function sortValue(r){if(state.sortKey==='name')return r.name;if(state.sortKey==='score')return r.score===null?-1:r.score;if(state.sortKey==='exit')return r.exit;if(state.sortKey==='time')return r.ms;var x=r.cells[state.sortKey];return x?RANK[x.s]:-1;}
function overview(){var n=data.rows.length,g=data.rows.filter(function(r){return r.score!==null;}).length;var t=n+' submissions, '+g+' graded, batch exit code '+data.exitCode+'.';if(data.stopped)t+=' The batch was stopped: '+data.stopped+'.';document.getElementById('overview').textContent=t;}
function rates(){var t=document.getElementById('rates');t.textContent='';var h=el('tr');['group','passed','rate',''].forEach(function(x){h.appendChild(el('th',null,x));});t.appendChild(h);
data.rates.forEach(function(r){var tr=el('tr',{'data-group':r.group});tr.appendChild(el('td',{class:'name'},r.group));tr.appendChild(el('td',null,r.passed+'/'+r.graded));var pct=r.graded?Math.round(100*r.passed/r.graded):0;tr.appendChild(el('td',null,r.graded?pct+'%':'-'));var td=el('td');var b=el('span',{class:'bar',style:'width:'+(pct*1.5)+'px'});var b2=el('span',{class:'bar rest',style:'width:'+((100-pct)*1.5)+'px'});td.appendChild(b);td.appendChild(b2);tr.appendChild(td);t.appendChild(tr);});}
function matrix(){var t=document.getElementById('matrix');t.textContent='';var checks=visibleChecks();var head=el('tr');
var arrow=function(k){return state.sortKey===k?(state.sortDir>0?' \\u25b4':' \\u25be'):'';};
[['name','submission'],['score','score'],['exit','exit'],['time','time']].forEach(function(k){var th=el('th',{class:k[0]==='name'?'name':'', 'data-sort':k[0],rowspan:'2'},k[1]+arrow(k[0]));head.appendChild(th);});
var spans=[];checks.forEach(function(c){var last=spans[spans.length-1];if(last&&last.g===c.group)last.n++;else spans.push({g:c.group,n:1});});
spans.forEach(function(x){head.appendChild(el('th',{class:'group',colspan:String(x.n)},x.g));});t.appendChild(head);
var head2=el('tr');checks.forEach(function(c){var th=el('th',{class:'check','data-sort':c.id,title:c.id+': '+c.title},c.id.slice(c.group.length+1)+arrow(c.id));head2.appendChild(th);});t.appendChild(head2);
var rows=data.rows.slice().sort(function(a,b){var x=sortValue(a),y=sortValue(b);return (x<y?-1:x>y?1:0)*state.sortDir||(a.name<b.name?-1:1);});
var shown=0;rows.forEach(function(r){if(state.failedOnly&&!rowFails(r,checks))return;shown++;var tr=el('tr',{'data-submission':r.name});var n=el('td',{class:'name',title:r.dir+(r.note?' \\u2014 '+r.note:'')},r.name+(r.note?' \\u26a0':''));tr.appendChild(n);
tr.appendChild(el('td',null,r.score===null?'-':r.score+'/'+r.max));tr.appendChild(el('td',null,r.exit));tr.appendChild(el('td',null,Math.round(r.ms/1000)+'s'));
checks.forEach(function(c){var x=r.cells[c.id];var s=x?x.s:'none';var td=el('td',{class:'cell '+s,'data-check':c.id,'data-status':s,title:c.id+': '+s},x?SYM[s]:'\\u00b7');td.addEventListener('click',function(){show(r,c,td);});tr.appendChild(td);});t.appendChild(tr);});
document.getElementById('shown').textContent=shown+' of '+data.rows.length+' submissions shown';
t.querySelectorAll('th[data-sort]').forEach(function(th){th.addEventListener('click',function(){var k=th.getAttribute('data-sort');if(state.sortKey===k)state.sortDir=-state.sortDir;else{state.sortKey=k;state.sortDir=1;}matrix();});});}
function show(r,c,td){document.querySelectorAll('td.selected').forEach(function(x){x.classList.remove('selected');});td.classList.add('selected');var x=r.cells[c.id];var d=document.getElementById('details');d.hidden=false;
document.getElementById('d-title').textContent=r.name+' \\u2014 '+c.id;
document.getElementById('d-status').textContent=x?(c.title+': '+x.s+', '+x.p+'/'+c.max+' points'):(c.title+': not graded');
document.getElementById('d-message').textContent=x?x.m:(r.note||'not graded');
function opt(id,v){document.getElementById(id+'-box').hidden=!v;document.getElementById(id).textContent=v||'';}
opt('d-hint',x&&x.h);opt('d-loc',x&&x.l);opt('d-diag',x&&x.d);}
document.getElementById('close').addEventListener('click',function(){document.getElementById('details').hidden=true;});
document.addEventListener('keydown',function(e){if(e.key==='Escape')document.getElementById('details').hidden=true;});
var sel=document.getElementById('group');groups().forEach(function(g){sel.appendChild(el('option',{value:g},g));});
sel.addEventListener('change',function(){state.group=sel.value;matrix();});
document.getElementById('failed-only').addEventListener('change',function(e){state.failedOnly=e.target.checked;matrix();});
overview();rates();matrix();
})();
`;
