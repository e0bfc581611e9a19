"""Browser test of the results page (`sel_nb.results_page`): headless Chromium with the network cut (DevTools' offline
emulation for pages opened from disk; a dead proxy and a resolver that resolves nothing for every host but this machine).
The committed `results/quick/index.html` is opened from disk and from the built docs site; pages for a folder with one
system and one seed, and for one with a history missing and a system the registry does not know, are written in a temp
folder. `results/selective/index.html` (a folder with points files) shows accuracy against executed FLOPs and time; `results/distributed/index.html` (two
processes, three systems since removed from the registry) its communication; a smoke budget study (`sel_bench --budgets`)
made here shows its frontier, its verdicts and the links to each budget's page; a toy bandwidth sweep (a `bandwidth.csv`
made up here) its step time against the link, its hook time against the model, its table and the links to its runs' pages.
Checked: no request leaves the machine (DevTools' performance log), no console error, a hovered point's tooltip
shows the value in the CSV or summary.json, every tab and switch changes what is drawn, nothing overflows 390 px.
Screenshots go to `_shots/results_page_desktop.png` and `_shots/results_page_phone.png` (copied to `docs/results_page.png`
and `docs/results_page_phone.png`), and `_shots/results_page_{points,frontier,verdicts,comm,bwtime,bwmodel,bwtable}{,_phone}.png`.
"""
import json, re, shutil, subprocess
import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import BIN, ROOT, chrome, run, shot
from sel_nb.results_page import results_page_html, write_results_page, page_systems
from sel_nb.continual import CONTINUAL_SYSTEMS
from sel_nb.bandwidth import BANDWIDTH_FILES
from sel_nb.bandwidth_sweep import hook_label, sweep_folder
from sel_nb.comm import comm_seconds

QUICK = ROOT/'results'/'quick'
PAGE = QUICK/'index.html'
SELECTIVE = ROOT/'results'/'selective'
DISTRIBUTED = ROOT/'results'/'distributed'
TRACKED = set(subprocess.run(['git', 'ls-files', 'results'], cwd=ROOT, capture_output=True, text=True).stdout.split())  # not pages a study is writing now
COMMITTED = [p.parent for p in sorted(ROOT.glob('results/**/index.html')) if str(p.relative_to(ROOT)) in TRACKED and p.read_text().count('id="sel-data"') == 1]  # a study's per-run pages too
SEVERED = ['--proxy-server=http://127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']

@pytest.fixture(scope='module')
def driver():
    with chrome(*SEVERED, logs=('browser', 'performance')) as d:
        d.execute_cdp_cmd('Network.enable', {})
        yield d

def offline(driver, on=True):
    "DevTools' network emulation: `on` cuts every network request (pages from disk need none)."
    driver.execute_cdp_cmd('Network.emulateNetworkConditions', dict(offline=on, latency=0, downloadThroughput=-1, uploadThroughput=-1))

def open_page(driver, url, frame=None):
    "Load `url` with the logs emptied; wait until the page (or the one in iframe `frame`) has drawn."
    driver.get_log('browser'); driver.get_log('performance')
    driver.get(url)
    if frame: driver.switch_to.frame(WebDriverWait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, frame)))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script('return !!(window.selPage && window.selPage.ready)'))

def requests(driver):
    "Every URL the browser asked for since the logs were last read."
    msgs = [json.loads(e['message'])['message'] for e in driver.get_log('performance')]
    return [m['params']['request']['url'] for m in msgs if m['method'] == 'Network.requestWillBeSent']

def leaving(urls, local=()):
    "The requests that would leave the machine: anything but file:, data:, blob:, about: and the `local` server."
    return [u for u in urls if not u.startswith(('file://', 'data:', 'blob:', 'about:', *local))]

def errors(driver):
    "The console's errors; the docs site's missing /favicon.ico excepted (the results page has its own, a data: URL)."
    return [e['message'] for e in driver.get_log('browser') if e['level'] == 'SEVERE' and '/favicon.ico ' not in e['message']]

def js(driver, expr, *args): return driver.execute_script(f'const P = window.selPage; return ({expr});', *args)

def drawn(driver, chart):
    "What chart `chart` draws: its datasets (labels, points, hidden) and its pixels."
    return js(driver, '[JSON.stringify(P.charts[arguments[0]].data.datasets.map(d => [d.label, d.data, !!d.hidden])),'
                      ' P.charts[arguments[0]].canvas.toDataURL()]', chart)

def hover(driver, chart, label, index):
    "Move the mouse onto point `index` of the dataset `label`; returns the tooltip's title and lines."
    i, x, y = js(driver, '(() => { const c = P.charts[arguments[0]], i = c.data.datasets.findIndex(d => d.label === arguments[1]);'
                         ' const p = c.getDatasetMeta(i).data[arguments[2]]; return [i, p.x, p.y]; })()', chart, label, index)
    canvas = driver.find_element(By.ID, f'c-{chart}')
    driver.execute_script('arguments[0].scrollIntoView({block: "center"})', canvas)
    ActionChains(driver).move_to_element_with_offset(canvas, round(x - canvas.size['width'] / 2), round(y - canvas.size['height'] / 2)).perform()
    active = js(driver, 'P.charts[arguments[0]].tooltip.getActiveElements().map(a => [a.datasetIndex, a.index])', chart)
    assert [i, index] in active, f'the mouse is not on {label} #{index}: active {active}'
    return js(driver, '(() => { const t = P.charts[arguments[0]].tooltip; return [t.opacity, t.title.join(" "), t.body.flatMap(b => b.lines)]; })()', chart)

def pick(driver, what, value):
    "Set a control: `seed`/`esys` (selects), `cost`/`metric`/`xaxis` (radio buttons), `overlay` (the checkbox), `tab`."
    if what in ('seed', 'esys'): Select(driver.find_element(By.ID, what)).select_by_value(value)
    elif what == 'overlay': driver.find_element(By.ID, 'overlay').click()
    elif what == 'tab': driver.find_element(By.CSS_SELECTOR, f'.tabs [data-tab="{value}"]').click()
    else: driver.find_element(By.CSS_SELECTOR, f'input[name="{what}"][value="{value}"]').click()

@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    """Results folders with gaps, each with its page: `one` (Warmup+SEL, seed 0, no summary), `gaps` (a history missing,
    one empty, a system unknown)."""
    tmp = tmp_path_factory.mktemp('results')
    one = tmp/'one'; (one/'seed0').mkdir(parents=True)
    for f in ('hist_warmup.csv', 'final_warmup.json'): shutil.copy(QUICK/'seed0'/f, one/'seed0'/f)
    (one/'config.json').write_text(json.dumps(json.loads((QUICK/'config.json').read_text()) | dict(seeds=[0], experiments=['warmup'])))
    gaps = shutil.copytree(QUICK, tmp/'gaps')
    (gaps/'seed1'/'hist_sel95.csv').unlink()
    (gaps/'seed2'/'hist_lottery.csv').write_text('')  # a run that died in its first epoch
    shutil.copy(gaps/'seed0'/'hist_baseline.csv', gaps/'seed0'/'hist_mine.csv')
    return {k: write_results_page(f) for k, f in dict(one=one, gaps=gaps).items()}

@pytest.fixture(scope='module')
def study(tmp_path_factory):
    """A smoke budget study with its page: budgets 0.5 and 1, two seeds, Baseline and RS2 (controls), RHO-LOSS (a contender
    whose model is charged, one model a seed kept in the study's `irreducible/`), SEL-95% at its own budget, long-tailed."""
    out = tmp_path_factory.mktemp('study')/'study'
    run([BIN/'sel_bench', '--preset', 'smoke', '--budgets', '0.5', '1', '--seeds', '0', '1', '--experiments', 'baseline', 'rs2',
         'rho_loss', 'sel95', '--set', 'imbalance=10', f'rho_cache={out}/irreducible', '--out', out, '--no-progress'], timeout=900)  # its models kept in the study, as the full-size study keeps them
    write_results_page(out)
    return out

@pytest.fixture(scope='module')
def sweep(tmp_path_factory):
    """A toy bandwidth sweep with its page: `bandwidth.csv` for 1 Gbit/s (seed 0) and 100 Mbit/s (seeds 0 and 1) × dense
    allreduce and guilt 0.5%, made up around `comm_seconds` (hook time 3 ms + 1.5 × the model), and a stand-in page in
    `1gbit/allreduce/` only."""
    out, rows = tmp_path_factory.mktemp('sweep')/'sweep', []
    for rate, gbit, seeds in (('1gbit', 1.0, (0,)), ('100mbit', 0.1, (0, 1))):
        for hook, sent in (('allreduce', 705032.0), ('guilt:0.005', 7056.0)):
            for s in seeds:
                ms = 3 + 1.5e3 * comm_seconds(sent, 2, gbit, 'allgather' if hook.startswith('guilt') else 'allreduce')
                rows.append(dict(rate=rate, gbit=gbit, hook=hook, label=hook_label(hook), seed=s, world=2, steps=2814, time_s=2.814 * (40 + 2 * s + ms),
                                 step_ms=40 + 2 * s + ms, hook_ms=ms, bytes_per_step=sent, link_per_step=1.05 * sent, test_full=0.9 + 0.002 * s))
    runs = pd.DataFrame(rows)
    dense = runs[runs.hook == 'allreduce'].set_index(['rate', 'seed']).time_s
    runs['time_ratio'] = runs['reach'] = runs.time_s / dense.loc[list(zip(runs.rate, runs.seed))].to_numpy()
    out.mkdir(); runs.to_csv(out/BANDWIDTH_FILES['runs'], index=False)
    (f := sweep_folder(out, '1gbit', 'allreduce')).mkdir(parents=True)
    shutil.copy(DISTRIBUTED/'config.json', f/'config.json'); (f/'index.html').write_text('<!DOCTYPE html><title>a run</title>')
    write_results_page(out)
    return out

# ---------------------------------------------------------------- tests
@pytest.mark.parametrize('folder', COMMITTED, ids=[str(f.relative_to(ROOT/'results')) for f in COMMITTED])
def test_committed_page_is_current(folder):
    assert (folder/'index.html').read_text() == results_page_html(folder, page_systems(folder)), f'{folder.relative_to(ROOT)}/index.html is stale: run write_results_page("{folder.relative_to(ROOT)}")'
    assert (ROOT/'nbs'/'results_quick.html').resolve() == PAGE.resolve(), 'nbs/results_quick.html must link to results/quick/index.html'

def test_from_disk_offline(driver):
    offline(driver)
    open_page(driver, PAGE.as_uri())
    assert errors(driver) == []
    assert leaving(requests(driver)) == []
    assert [d[0] for d in json.loads(drawn(driver, 'test')[0])] == ['Baseline', 'Lottery Ticket', 'SEL-95%', 'Warmup+SEL']
    assert js(driver, 'document.querySelector("#notices").textContent') == ''  # nothing missing in the committed run

def test_requests_check_catches_a_cdn(driver, tmp_path):
    "The check above can fail: a page that asks a CDN for a script is caught, though the request goes nowhere."
    f = tmp_path/'cdn.html'
    f.write_text(PAGE.read_text().replace('</body>', '<script src="https://cdn.jsdelivr.net/npm/chart.js"></script></body>'))
    offline(driver)
    open_page(driver, f.as_uri())
    assert leaving(requests(driver)) == ['https://cdn.jsdelivr.net/npm/chart.js']

def test_hover_shows_exact_values(driver):
    offline(driver)
    open_page(driver, PAGE.as_uri())
    runs = {s: pd.read_csv(QUICK/f'seed{s}'/'hist_sel95.csv') for s in (0, 1, 2)}
    m = pd.concat(runs.values()).groupby('epoch').test_full.agg(['mean', 'min', 'max']).loc[4]
    opacity, title, lines = hover(driver, 'test', 'SEL-95%', 3)  # the mean of three seeds, epoch 4
    assert opacity == 1 and title == 'epoch 4'
    assert lines == [f"SEL-95%: {100 * m['mean']:.2f}% (mean of 3 seeds; {100 * m['min']:.2f}% to {100 * m['max']:.2f}%)"]
    shot(driver, 'results_page_desktop', full=False)  # the window: a full-page capture resizes it, and the tooltip goes
    pick(driver, 'seed', '0')
    v = pd.read_csv(QUICK/'seed0'/'hist_baseline.csv').test_full[1]
    _, title, lines = hover(driver, 'test', 'Baseline', 1)  # Lottery Ticket's dense pre-training is the same run: both show
    assert title == 'epoch 2' and f'Baseline: {100 * v:.2f}%' in lines
    pick(driver, 'seed', 'mean'); pick(driver, 'tab', 'tradeoff')  # the bubbles: summary.json's mean ± std
    s = json.loads((QUICK/'summary.json').read_text())['systems']['lottery']
    lines = hover(driver, 'tradeoff', 'Lottery Ticket', 0)[2]
    assert f"held-out accuracy {100 * s['test_100_mean']:.2f}% ± {100 * s['test_100_std']:.2f}%" in lines
    assert f"FLOPs executed saved {100 * s['saved_executed_mean']:.2f}% ± {100 * s['saved_executed_std']:.2f}%" in lines  # the default cost
    assert errors(driver) == []

TABS = ['accuracy', 'cost', 'tradeoff', 'perclass', 'embarrassment', 'stages', 'summary']
SWITCHES = [  # (tab, control, value, the charts it must change; a table id for the table tabs)
    ('accuracy', 'seed', '1', ['test', 'train']), ('accuracy', 'metric', 'test_100', ['test']),
    ('accuracy', 'xaxis', 'cost', ['test', 'train']), ('accuracy', 'overlay', None, ['test', 'train']),
    ('cost', 'cost', 'counted', ['cost']), ('cost', 'cost', 'time', ['cost']), ('cost', 'seed', '2', ['cost', 'sparsity']),
    ('tradeoff', 'cost', 'time', ['tradeoff']), ('tradeoff', 'seed', '0', ['tradeoff']), ('tradeoff', 'overlay', None, ['tradeoff']),
    ('perclass', 'seed', '1', ['perclass']), ('embarrassment', 'esys', 'warmup', ['E', 'C']), ('embarrassment', 'seed', '2', ['E', 'C']),
    ('stages', 'seed', '1', ['#stages-runs']), ('summary', 'seed', '2', ['#summary-table'])]

def state(driver, targets):
    return [js(driver, 'document.querySelector(arguments[0]).innerHTML', t) if t.startswith('#') else drawn(driver, t) for t in targets]

def test_tabs_show_their_views(driver):
    offline(driver)
    open_page(driver, PAGE.as_uri())
    seen = []
    for tab in TABS:
        pick(driver, 'tab', tab)
        assert js(driver, '[...document.querySelectorAll(".panel.active")].map(p => p.dataset.panel)') == [tab]
        charts = js(driver, '[...document.querySelectorAll(".panel.active canvas")].map(c => c.id.slice(2))')
        for c in charts: assert js(driver, 'P.charts[arguments[0]].data.datasets.length', c) > 0, f'{tab}: {c} is empty'
        seen.append(js(driver, 'document.querySelector(".panel.active").innerText') + ''.join(drawn(driver, c)[1] for c in charts))
        assert js(driver, 'document.querySelector(".panel.active").getBoundingClientRect().height') > 100
    assert len(set(seen)) == len(TABS)
    assert errors(driver) == []

@pytest.mark.parametrize('tab,control,value,targets', SWITCHES, ids=[f'{t}-{c}-{v}' for t, c, v, _ in SWITCHES])
def test_switch_changes_the_drawing(driver, tab, control, value, targets):
    offline(driver)
    open_page(driver, PAGE.as_uri())
    pick(driver, 'tab', tab)
    if (tab, control) == ('accuracy', 'overlay'): pick(driver, 'xaxis', 'epoch')
    if (tab, control) == ('cost', 'seed'): pick(driver, 'cost', 'time')  # executed FLOPs, the default, are the same in every seed
    if (tab, control) == ('tradeoff', 'overlay'): pick(driver, 'cost', 'counted')  # the seed's runs measured no executed FLOPs
    before = state(driver, targets)
    pick(driver, control, value)
    after = state(driver, targets)
    for t, b, a in zip(targets, before, after):
        if t.startswith('#'): assert a != b, f'{t} did not change'
        else: assert a[0] != b[0] and a[1] != b[1], f'{t}: ' + ('the data' if a[0] == b[0] else 'the pixels') + ' did not change'
    assert errors(driver) == []

def test_phone_width(driver):
    offline(driver)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', dict(width=390, height=844, deviceScaleFactor=2, mobile=True))
    try:
        open_page(driver, PAGE.as_uri())
        for tab in TABS:
            pick(driver, 'tab', tab)
            assert js(driver, 'document.documentElement.scrollWidth') <= 390, f'{tab} overflows 390 px'
            if tab == 'tradeoff': shot(driver, 'results_page_phone')
        assert errors(driver) == []
    finally: driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

def test_one_system_one_seed(driver, folders):
    offline(driver)
    open_page(driver, folders['one'].as_uri())
    assert 'One seed only' in js(driver, 'document.querySelector("#notices").textContent')
    assert 'summary.json: missing' in js(driver, 'document.querySelector("#notices").textContent')
    assert js(driver, '[...document.querySelectorAll("#seed option")].map(o => o.value)') == ['0']
    assert [d[0] for d in json.loads(drawn(driver, 'test')[0])] == ['Warmup+SEL']
    for tab in TABS: pick(driver, 'tab', tab)
    assert 'summary.json is missing' in js(driver, 'document.querySelector("#summary-table").textContent')
    pick(driver, 'tab', 'tradeoff')
    assert 'summary.json is missing' in js(driver, 'document.querySelector("#n-tradeoff").textContent')
    assert errors(driver) == [] and leaving(requests(driver)) == []

def test_missing_history(driver, folders):
    offline(driver)
    open_page(driver, folders['gaps'].as_uri())
    notices = js(driver, 'document.querySelector("#notices").textContent')
    assert 'seed1/hist_sel95.csv: missing' in notices and 'seed2/hist_lottery.csv: unreadable' in notices
    labels = {d[0]: d for d in json.loads(drawn(driver, 'test')[0])}
    assert list(labels) == ['Baseline', 'Lottery Ticket', 'SEL-95%', 'Warmup+SEL', 'mine']  # the unknown system is drawn
    assert js(driver, 'P.charts.test.data.datasets[4].borderColor') == '#7f7f7f'
    pick(driver, 'seed', '1')
    assert 'No data (seed 1) for: SEL-95%, mine.' in js(driver, 'document.querySelector("#n-test").textContent')
    for tab in TABS: pick(driver, 'tab', tab)
    shot(driver, 'results_page_gaps')
    assert errors(driver) == [] and leaving(requests(driver)) == []

def test_docs_site(driver, base_url):
    offline(driver, False)  # the site is served locally; the proxy and resolver still stop anything else
    open_page(driver, base_url + 'results.html', frame='main iframe')
    assert [d[0] for d in json.loads(drawn(driver, 'test')[0])] == ['Baseline', 'Lottery Ticket', 'SEL-95%', 'Warmup+SEL']
    driver.switch_to.default_content()
    assert re.search(r'\bResults\b', driver.find_element(By.CSS_SELECTOR, 'h1.title').text)
    assert errors(driver) == []
    assert leaving(requests(driver), local=(base_url,)) == []
    open_page(driver, base_url + 'results_quick.html')
    pick(driver, 'tab', 'stages')
    assert 'PASS' in js(driver, 'document.querySelector("#stages-runs").textContent')
    assert errors(driver) == []
    assert leaving(requests(driver), local=(base_url,)) == []

def sig(v): return f'{float(f"{v:.4g}"):g}'  # as the page writes a number: four significant digits

def points_mean(system, step, col):
    "The mean over results/selective's seeds of `col` at `step` in `points_<system>.csv`, with its min and max."
    runs = pd.concat(pd.read_csv(f) for f in sorted(SELECTIVE.glob(f'seed*/points_{system}.csv')))
    return runs[runs.step == step][col].agg(['mean', 'min', 'max'])

def test_points_views(driver):
    "Accuracy against executed FLOPs and time from the points files; a folder without them has no such tab."
    offline(driver)
    open_page(driver, PAGE.as_uri())
    assert js(driver, 'document.querySelector(".tabs [data-tab=points]").hidden')
    open_page(driver, (SELECTIVE/'index.html').as_uri())
    pick(driver, 'tab', 'points')
    systems = ['Baseline', 'Selective backprop, stale', 'Selective by class E', 'Random subset (control)']
    for chart in ('pflops', 'ptime'): assert [d[0] for d in json.loads(drawn(driver, chart)[0])] == systems
    acc, flops = points_mean('selective_class', 936, 'test_100'), points_mean('selective_class', 936, 'flops_measured_T')
    opacity, title, lines = hover(driver, 'pflops', 'Selective by class E', 3)  # step 936: the mean of three seeds
    assert opacity == 1 and title == f"step 936, epoch 0.9979, {sig(flops['mean'])} TFLOP"
    assert lines == [f"Selective by class E: {100 * acc['mean']:.2f}% (mean of 3 seeds; {100 * acc['min']:.2f}% to {100 * acc['max']:.2f}%)"]
    shot(driver, 'results_page_points', full=False)
    before = drawn(driver, 'ptime')
    pick(driver, 'seed', '1')
    assert drawn(driver, 'ptime') != before
    t = pd.read_csv(SELECTIVE/'seed1'/'points_baseline.csv').iloc[-1]
    _, title, lines = hover(driver, 'ptime', 'Baseline', 14)  # the last point: the end of epoch 3
    assert title == f"step {int(t.step)}, epoch 3, {t.time_s:.1f} s" and lines == [f"Baseline: {100 * t.test_100:.2f}%"]
    assert errors(driver) == [] and leaving(requests(driver)) == []

def test_study_page(driver, study):
    "A study folder's page: the frontier (a line per budgeted system, RHO-LOSS also where its model is charged, SEL-95% a star), the verdicts and RHO-LOSS's models, links to the budgets' pages."
    offline(driver)
    open_page(driver, (study/'index.html').as_uri())
    assert errors(driver) == [] and leaving(requests(driver)) == []
    assert js(driver, '[...document.querySelectorAll(".tabs button")].filter(b => !b.hidden).map(b => b.dataset.tab)') == ['frontier', 'verdicts']
    sets = {d[0]: d[1] for d in json.loads(drawn(driver, 'frontier')[0])}
    assert list(sets) == ['Baseline', 'SEL-95% (its own budget)', 'RS2 (random rounds)', 'RHO-LOSS', 'RHO-LOSS, its model charged']
    runs = pd.read_csv(study/'study_runs.csv')
    rho = runs[runs.experiment == 'rho_loss'].groupby('budget').charged.mean()
    assert [p['x'] for p in sets['RHO-LOSS, its model charged']] == pytest.approx(list(rho), rel=1e-5) and all(rho > rho.index)
    acc = runs[(runs.experiment == 'baseline') & (runs.budget == 1)].test_full.agg(['mean', 'min', 'max'])
    opacity, title, lines = hover(driver, 'frontier', 'Baseline', 1)
    assert opacity == 1 and title == 'budget 1'
    assert lines == [f"Baseline: {100 * acc['mean']:.2f}% (mean of 2 seeds; {100 * acc['min']:.2f}% to {100 * acc['max']:.2f}%)"]
    shot(driver, 'results_page_frontier', full=False)
    pick(driver, 'tab', 'verdicts')
    v = pd.read_csv(study/'verdicts.csv')
    rows = js(driver, '[...document.querySelectorAll("#verdict-tables .scroll:not(#irreducible-table) tbody tr")].map(r => [...r.cells].map(c => c.textContent))')
    assert len(rows) == len(v) == 2 * 2  # two budgets × RHO-LOSS against Baseline and RS2
    assert [r[1] for r in rows] == list(v.verdict) and all(r[0] == 'RHO-LOSS' for r in rows)
    assert rows[0][3].startswith(f"{'+' if v['mean'][0] >= 0 else '−'}{abs(v['mean'][0]):.2f} [")
    assert js(driver, 'document.querySelectorAll("#verdict-tables h2").length') == 2 + 1  # the budgets, then RHO-LOSS's models
    irr = pd.read_csv(study/'irreducible.csv')
    models = js(driver, '[...document.querySelectorAll("#irreducible-table tbody tr")].map(r => [...r.cells].map(c => c.textContent))')
    assert [m[:2] for m in models] == [[str(s), f'{a:.1f}'] for s, a in zip(irr.seed, irr.accuracy)] and list(irr.seed) == [0, 1]
    assert [m[2] for m in models] == [f'{w:.1f}' for w in irr.worst_class] and all(m[6] != '—' for m in models)  # each model's worst class and seconds recorded
    shot(driver, 'results_page_verdicts')
    links = js(driver, '[...document.querySelectorAll("#pages a")].map(a => a.getAttribute("href"))')
    assert links[:3] == ['budget_0.5/index.html', 'budget_1/index.html', 'natural/index.html'] and all((study/l).is_file() for l in links)
    driver.find_element(By.LINK_TEXT, 'budget 0.5').click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script('return !!(window.selPage && window.selPage.ready)'))
    assert 'budget 0.5 of the Baseline' in js(driver, 'document.querySelector("#about").textContent')
    assert errors(driver) == [] and leaving(requests(driver)) == []

@pytest.mark.parametrize('page,tabs', [('selective', ['points']), ('study', ['frontier', 'verdicts'])])
def test_new_views_fit_a_phone(driver, study, page, tabs):
    offline(driver)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', dict(width=390, height=844, deviceScaleFactor=2, mobile=True))
    try:
        open_page(driver, ((SELECTIVE if page == 'selective' else study)/'index.html').as_uri())
        for tab in tabs:
            pick(driver, 'tab', tab)
            assert js(driver, 'document.documentElement.scrollWidth') <= 390, f'{page}: {tab} overflows 390 px'
            shot(driver, f'results_page_{tab}_phone')
        assert errors(driver) == []
    finally: driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

def visible_tabs(driver): return js(driver, '[...document.querySelectorAll(".tabs button")].filter(b => !b.hidden).map(b => b.dataset.tab)')

def test_comm_view(driver):
    "A distributed run's Communication tab: bytes per step and rank (log) beside the dense allreduce's, by the labels the runs saved; a folder in one process has no such tab."
    offline(driver)
    open_page(driver, PAGE.as_uri())
    assert 'comm' not in visible_tabs(driver)
    open_page(driver, (DISTRIBUTED/'index.html').as_uri())
    assert 'comm' in visible_tabs(driver)
    pick(driver, 'tab', 'comm')
    systems = ['Baseline', 'DDP, guilt-sparse 0.5%', 'DDP, guilt-sparse 0.1%', 'DDP, PowerSGD rank 1']
    assert js(driver, 'P.charts.comm.data.labels') == systems  # the registry no longer has the last three: the labels their runs saved
    assert js(driver, 'P.charts.comm.options.scales.y.type') == 'logarithmic'
    comm = pd.read_csv(DISTRIBUTED/'comm.csv', index_col='experiment')
    opacity, title, lines = hover(driver, 'comm', 'bytes sent per step and rank', 3)
    assert opacity == 1 and title == 'DDP, PowerSGD rank 1'
    assert lines == [f"bytes sent per step and rank: {comm.bytes_per_step['ddp_powersgd1']:,.0f} B (all 3 seeds)"]  # the seeds differ by less than a byte
    assert js(driver, 'P.charts.comm.tooltip.afterBody') == ['hook: powersgd, rank 1, 2 processes', f"{sig(comm.compression.ddp_powersgd1)}× fewer bytes than a dense allreduce"]
    rows = js(driver, '[...document.querySelectorAll("#comm-table tbody tr")].map(r => [...r.cells].map(c => c.textContent))')
    assert [r[0] for r in rows] == systems and [r[6].split(' ')[0] for r in rows] == [f'{c:.1f}' for c in comm.compression]
    assert js(driver, 'document.querySelector("#c-hooktime").closest("figure").hidden')  # its runs predate the hooks' clock
    assert 'recorded no hook time' in js(driver, 'document.querySelector("#n-comm").textContent')
    shot(driver, 'results_page_comm', full=False)
    pick(driver, 'seed', '1')
    assert js(driver, 'P.charts.comm.data.datasets[0].err.every(e => e === null)')  # one seed: no spread
    assert errors(driver) == [] and leaving(requests(driver)) == []

def test_bandwidth_page(driver, sweep):
    "A sweep's page: step time against the link (a line per hook, error bars over seeds), hook time against the model, the table, links to the run pages that exist."
    offline(driver)
    open_page(driver, (sweep/'index.html').as_uri())
    assert errors(driver) == [] and leaving(requests(driver)) == []
    assert visible_tabs(driver) == ['bwtime', 'bwmodel', 'bwtable']
    runs = pd.read_csv(sweep/'bandwidth.csv')
    sets = {d[0]: d[1] for d in json.loads(drawn(driver, 'bwtime')[0])}
    assert list(sets) == ['dense allreduce', 'guilt 0.5%'] and [p['x'] for p in sets['guilt 0.5%']] == [0.1, 1]
    m = runs[(runs.hook == 'guilt:0.005') & (runs.gbit == 0.1)].step_ms.agg(['mean', 'min', 'max'])
    opacity, title, lines = hover(driver, 'bwtime', 'guilt 0.5%', 0)
    assert opacity == 1 and title == 'link 0.1 Gbit/s'
    assert lines == [f"guilt 0.5%: {sig(m['mean'])} ms (mean of 2 seeds; {sig(m['min'])} to {sig(m['max'])} ms)"]
    shot(driver, 'results_page_bwtime', full=False)
    pick(driver, 'tab', 'bwmodel')
    labels = [d[0] for d in json.loads(drawn(driver, 'bwmodel')[0])]
    assert labels == ['dense allreduce', 'guilt 0.5%', 'measured = predicted', 'fit: 3.0 ms + 1.50 × predicted']
    shot(driver, 'results_page_bwmodel', full=False)
    pick(driver, 'tab', 'bwtable')
    rows = js(driver, '[...document.querySelectorAll("#bw-table tbody tr")].map(r => [...r.cells].map(c => c.textContent))')
    assert [r[:3] for r in rows] == [['1 Gbit/s', 'dense allreduce', '1'], ['1 Gbit/s', 'guilt 0.5%', '1'], ['0.1 Gbit/s', 'dense allreduce', '2'], ['0.1 Gbit/s', 'guilt 0.5%', '2']]
    shot(driver, 'results_page_bwtable')
    links = js(driver, '[...document.querySelectorAll("#pages a")].map(a => a.getAttribute("href"))')
    assert links == ['1gbit/allreduce/index.html', 'bandwidth.csv'] and all((sweep/l).is_file() for l in links)
    assert '100mbit/allreduce/index.html: missing' in js(driver, 'document.querySelector("#notices").textContent')
    pick(driver, 'tab', 'bwmodel'); pick(driver, 'seed', '1')  # seed 1 ran on the slow link only
    assert [p['x'] for p in json.loads(drawn(driver, 'bwmodel')[0])[0][1]] == pytest.approx([1e3 * comm_seconds(705032, 2, 0.1)])
    assert errors(driver) == [] and leaving(requests(driver)) == []

@pytest.mark.parametrize('page,tabs', [('distributed', ['comm']), ('sweep', ['bwtime', 'bwmodel', 'bwtable'])])
def test_comm_and_sweep_fit_a_phone(driver, sweep, page, tabs):
    offline(driver)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', dict(width=390, height=844, deviceScaleFactor=2, mobile=True))
    try:
        open_page(driver, ((DISTRIBUTED if page == 'distributed' else sweep)/'index.html').as_uri())
        for tab in tabs:
            pick(driver, 'tab', tab)
            assert js(driver, 'document.documentElement.scrollWidth') <= 390, f'{page}: {tab} overflows 390 px'
            shot(driver, f'results_page_{tab}_phone')
        assert errors(driver) == []
    finally: driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

def test_comm_hook_time(driver, tmp_path):
    "Runs whose hooks kept a clock (`hook_seconds_per_step`) show the time in the hook per step, in ms."
    out = shutil.copytree(ROOT/'results'/'distributed_validation', tmp_path/'timed')
    for i, f in enumerate(sorted(out.glob('seed0/final_*.json'))):
        d = json.loads(f.read_text()); d['comm'] |= dict(hook_seconds=0.5 * (i + 1), hook_seconds_per_step=0.5 * (i + 1) / d['comm']['steps'])
        f.write_text(json.dumps(d))
    write_results_page(out)
    offline(driver)
    open_page(driver, (out/'index.html').as_uri())
    pick(driver, 'tab', 'comm')
    assert not js(driver, 'document.querySelector("#c-hooktime").closest("figure").hidden')
    steps = json.loads((out/'seed0'/'final_baseline.json').read_text())['comm']['steps']
    assert js(driver, 'P.charts.hooktime.data.datasets[0].data[0]') == pytest.approx(1e3 * 0.5 / steps, rel=1e-5)
    rows = js(driver, '[...document.querySelectorAll("#comm-table tbody tr")].map(r => [...r.cells].map(c => c.textContent))')
    assert rows[0][4:8] == ['705,032', '705,032', '1.0', f'{1e3 * 0.5 / steps:.2f}']
    shot(driver, 'results_page_comm_timed', full=False)
    assert errors(driver) == []


# ---------------------------------------------------------------- one template for every kind of run
CONTINUAL = ROOT/'results'/'continual'
KINDS = {'benchmark': QUICK, 'selective': SELECTIVE, 'study': ROOT/'results'/'budget'/'clean', 'sweep': ROOT/'results'/'bandwidth', 'continual': CONTINUAL,
         'rl': ROOT/'results'/'rl_quick'}

def page_data(folder): return json.loads(re.search(r'<script type="application/json" id="sel-data">(.*?)</script>', (folder/'index.html').read_text(), re.S)[1])

def lab(hex_):
    "CIE L*a*b* of an sRGB colour `#rrggbb`."
    rgb = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb]
    xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.9505, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.089]
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])

@pytest.mark.parametrize('folder', [p.parent for p in sorted(ROOT.glob('results/**/index.html'))], ids=lambda f: str(f.relative_to(ROOT/'results')))
def test_distinct_colours(folder):
    "Every system on a page has a colour of its own: at least 15 apart in CIE L*a*b* (ΔE76) from every other on the page."
    s = page_data(folder)['systems']
    close = [(a['label'], b['label']) for i, a in enumerate(s) for b in s[i + 1:] if sum((x - y) ** 2 for x, y in zip(lab(a['color']), lab(b['color']))) ** 0.5 < 15]
    assert not close, f'look alike: {close}'

def test_default_cost_is_executed(driver):
    offline(driver)
    open_page(driver, PAGE.as_uri())
    assert js(driver, 'P.state.cost') == 'executed' and js(driver, 'document.querySelector("input[name=cost]:checked").value') == 'executed'

def test_tabs_only_with_data(driver):
    "The Stages tab appears on a run with a curriculum (quick: SEL-95%, Warmup+SEL), not on one without (selective)."
    offline(driver)
    open_page(driver, PAGE.as_uri()); assert 'stages' in visible_tabs(driver)
    pick(driver, 'tab', 'stages')
    assert 'No curriculum stages: Baseline, Lottery Ticket.' in js(driver, 'document.querySelector("#stages-runs").textContent')
    open_page(driver, (SELECTIVE/'index.html').as_uri()); assert 'stages' not in visible_tabs(driver)

def test_continual_page(driver):
    "A continual run on the template: its three tabs, a line per system and scenario, an R matrix for each, the summary's numbers."
    offline(driver)
    open_page(driver, (CONTINUAL/'index.html').as_uri())
    assert driver.find_elements(By.CSS_SELECTOR, 'meta[name=viewport]')
    assert visible_tabs(driver) == ['ctasks', 'rmatrix', 'csummary']
    cs = pd.read_csv(CONTINUAL/'summary.csv', index_col=[0, 1])
    pick(driver, 'cwhich', 'all')
    for sc in ('class', 'task'):
        sets = json.loads(drawn(driver, f'cont-{sc}')[0])
        assert [d[0] for d in sets] == [CONTINUAL_SYSTEMS[k].label for k in cs.loc[sc].index]
        ft = next(d for d in sets if d[0] == 'Fine-tuning')
        assert abs(ft[1][-1]['y'] - cs.loc[(sc, 'finetune'), 'ACC_mean']) < 1e-4  # after the last task, on all tasks: ACC
    shot(driver, 'results_page_continual')
    pick(driver, 'tab', 'rmatrix')
    assert js(driver, 'document.querySelectorAll("#r-tables table").length') == len(cs)  # one per scenario and system
    pick(driver, 'tab', 'csummary')
    assert f"{100 * cs.loc[('task', 'guilt_freeze'), 'ACC_mean']:.1f} ± {100 * cs.loc[('task', 'guilt_freeze'), 'ACC_std']:.1f}" in js(driver, 'document.querySelector("#c-summary-table").textContent')
    assert errors(driver) == [] and leaving(requests(driver)) == []

@pytest.mark.parametrize('kind', list(KINDS))
def test_every_kind_fits_a_phone(driver, kind):
    "At 390 px no tab of any kind of page overflows the page; a table wider than its box pins its first column and says it scrolls."
    offline(driver)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', dict(width=390, height=844, deviceScaleFactor=2, mobile=True))
    try:
        open_page(driver, (KINDS[kind]/'index.html').as_uri())
        for tab in visible_tabs(driver):
            pick(driver, 'tab', tab)
            assert js(driver, 'document.documentElement.scrollWidth') <= 390, f'{kind}: {tab} overflows 390 px'
            for cued in js(driver, '[...document.querySelectorAll(".panel.active .scroll")].filter(b => b.scrollWidth > b.clientWidth + 1)'
                                   '.map(b => [b.classList.contains("wide"), getComputedStyle(b.querySelector("td, th")).position])'):
                assert cued == [True, 'sticky'], f'{kind}: {tab}: a wide table without its cue or pinned column: {cued}'
        shot(driver, f'results_page_{kind}_phone')
        assert errors(driver) == []
    finally: driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})


# ---------------------------------------------------------------- a replay study's and a federated study's pages
@pytest.fixture(scope='module')
def rl_study(tmp_path_factory):
    "A toy replay study as `sel_rl` writes it: two tasks, uniform replay and PER, two seeds, every return known (seed k of an agent: base + k)."
    from sel_nb.dqn import AGENTS
    from sel_nb.rl_study import rl_table
    out, finals = tmp_path_factory.mktemp('rl')/'study', []
    tasks, base = ('CartPole-v1', 'Acrobot-v1'), dict(uniform=100.0, per=150.0)
    out.mkdir(); (out/'config.json').write_text(json.dumps(dict(preset='quick', tasks=tasks, agents=list(base), seeds=[0, 1], tune_seeds=[100], command='sel_rl ...')))
    for t in tasks:
        for a, b in base.items():
            for k in (0, 1):
                (f := out/t/f'seed{k}'/f'hist_{a}.csv').parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame({'step': [1000, 2000], 'return': [b / 2 + k, b + k]}).to_csv(f, index=False)
                finals.append(dict(task=t, agent=a, seed=k, lr=1e-3, auc=0.75 * b + k, final=b + k, auc_norm=(0.75 * b + k) / 500, final_norm=(b + k) / 500, flops_T=1.0, time_s=5.0))
    rl_table(finals, reps=200).to_csv(out/'summary.csv', index=False)
    (out/'tuned.json').write_text(json.dumps({t: {a: dict(lr_scale=1.0, alpha=0.6, lr=1e-3, tuning_auc_iqm={f'{a}_lr1': 90.0}) for a in base} for t in tasks}))
    write_results_page(out, AGENTS)
    return out

def test_rl_page(driver, rl_study):
    "A replay study on the template: a chart per task with a line per agent (the mean of its seeds), and the IQM table with the chosen settings."
    from sel_nb.dqn import AGENTS
    offline(driver)
    open_page(driver, (rl_study/'index.html').as_uri())
    assert visible_tabs(driver) == ['rcurves', 'rsummary']
    sets = json.loads(drawn(driver, 'rl-Acrobot-v1')[0])
    assert [d[0] for d in sets] == [AGENTS['uniform'].label, AGENTS['per'].label]
    assert [p['y'] for p in sets[1][1]] == [75.5, 150.5] and [p['x'] for p in sets[1][1]] == [1000, 2000]  # PER: the mean of 150 + 0 and 150 + 1
    shot(driver, 'results_page_rl')
    pick(driver, 'tab', 'rsummary')
    text = js(driver, 'document.querySelector("#r-summary-table").textContent')
    assert AGENTS['per'].label in text and 'P(better than uniform)' in text
    assert 'lr_scale 1' in js(driver, 'document.querySelector("#r-tuned-table").textContent')
    assert errors(driver) == [] and leaving(requests(driver)) == []

@pytest.fixture(scope='module')
def fed_study(tmp_path_factory):
    "A toy federated study as `sel_fed` writes it: dense FedAvg and top-1% at α 0.1 and IID, two seeds, every evaluation and upload known."
    from sel_nb.fed_server import FED_STRATEGIES
    from sel_nb.fed_study import fed_table
    out, finals = tmp_path_factory.mktemp('fed')/'study', []
    (out/'runs').mkdir(parents=True)
    (out/'config.json').write_text(json.dumps(dict(preset='quick', strategies=['dense', 'top1'], alphas=['0.1', 'iid'], seeds=[0, 1], tune_seed=100,
                                                   preset_settings=dict(dataset='fashion_mnist', clients=100, per_round=10, rounds=4))))
    for a in ('0.1', 'iid'):
        for s, up in (('dense', 2e6), ('top1', 2e4)):
            for k in (0, 1):
                key = f'{s}_a{a}_e1_lr0.05'
                acc = [float('nan'), 0.5 + 0.1 * (s == 'dense') + 0.01 * k, float('nan'), 0.7 + 0.1 * (s == 'dense') + 0.01 * k]
                pd.DataFrame(dict(round=[1, 2, 3, 4], bytes_up=[up] * 4, select_up=0, hello_up=[1e3, 0, 0, 0], acc=acc)).to_csv(out/'runs'/f'hist_{key}_seed{k}.csv', index=False)
                finals.append(dict(strategy=s, alpha=a, seed=k, key=key, acc=acc[-1], acc_last=(acc[1] + acc[3]) / 2, bytes_up=4 * up + 1e3, bytes_down=8e6,
                                   rounds_to_target=None, up_to_target=None, select_forwards=0, failed=0))
    pd.DataFrame(finals).to_csv(out/'runs.csv', index=False)
    fed_table(finals).to_csv(out/'summary.csv', index=False)
    (out/'tuned.json').write_text(json.dumps({a: {s: dict(epochs=1, lr=0.05, val_acc={'e1_lr0.05': 0.6}) for s in ('dense', 'top1')} for a in ('0.1', 'iid')}))
    write_results_page(out, FED_STRATEGIES)
    return out

def test_fed_page(driver, fed_study):
    "A federated study on the template: a chart per split, accuracy against the megabytes uploaded (or the round), and the table of differences from dense FedAvg."
    from sel_nb.fed_server import FED_STRATEGIES
    offline(driver)
    open_page(driver, (fed_study/'index.html').as_uri())
    assert visible_tabs(driver) == ['fcurves', 'fsummary']
    sets = json.loads(drawn(driver, 'fed-iid')[0])
    assert [d[0] for d in sets] == [FED_STRATEGIES['dense'].label, FED_STRATEGIES['top1'].label]
    top1 = sets[1][1]
    assert [round(p['x'], 4) for p in top1] == [0.041, 0.081] and [round(p['y'], 4) for p in top1] == [0.505, 0.705]  # evaluated rounds 2 and 4; MB uploaded by then
    shot(driver, 'results_page_federated')
    pick(driver, 'fx', 'round')
    assert [p['x'] for p in json.loads(drawn(driver, 'fed-0.1')[0])[0][1]] == [2, 4]
    pick(driver, 'tab', 'fsummary')
    assert '-10.0 [' in js(driver, 'document.querySelector("#f-summary-table").textContent')  # top-1% against dense: 10 points less on every seed
    assert errors(driver) == [] and leaving(requests(driver)) == []
