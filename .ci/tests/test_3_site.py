"""Browser test of the offline docs site: build it (`.ci/docs.py site`), serve it with `python -m http.server`, drive
headless Chromium (Selenium, Debian's chromium + chromium-driver) and check the home page, every notebook page (title,
headings, API entries for every exported name, figures, links), the sidebar and the search. Screenshots go to `_shots/`.
No network: the driver and browser paths are given, so Selenium Manager never runs.
"""
import ast, configparser, json, re, urllib.error, urllib.parse, urllib.request
from pathlib import PurePosixPath

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT, chrome, shot  # the fixtures `site` and `base_url` are in conftest.py (shared with test_5)

PROJ = ROOT

# ---------------------------------------------------------------- what the site must contain, from the project
_ini = configparser.ConfigParser(); _ini.read(PROJ/'settings.ini')
CFG = _ini['DEFAULT']
NBS = PROJ/CFG.get('nbs_path', 'nbs')
LIB = PROJ/CFG.get('lib_path', CFG['lib_name'])
TITLE = CFG.get('title', CFG['lib_name'])

def html_name(nb):  # as nbdev.doclinks._nbpath2html: 00_core.ipynb -> core.html
    rel = nb.relative_to(NBS)
    return str(PurePosixPath(*rel.parent.parts, re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html'))

def _directives(src): return [l[2:].strip() for l in src.splitlines() if l.startswith('#|')]

def nb_expectations(nb):
    "The title, markdown headings (## and deeper) and number of shown pictures of a notebook."
    cells = json.loads(nb.read_text())['cells']
    title, heads, figs = None, [], 0
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            fence = False
            for l in src.splitlines():
                if l.startswith('```'): fence = not fence
                m = None if fence else re.match(r'^(#+)\s+(.*?)\s*$', l)
                if m and len(m[1]) == 1 and title is None: title = m[2]
                elif m: heads.append(re.sub(r'[`*_]', '', m[2]))
        elif c['cell_type'] == 'code':
            d = _directives(src)
            if any(x in ('hide', 'include: false', 'output: false') for x in d): continue
            figs += sum(1 for o in c.get('outputs', []) if set(o.get('data', {})) & {'image/png', 'image/jpeg', 'image/svg+xml'})
    return title, heads, figs

NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb')
                   if not any(x.startswith(('_', '.')) for x in p.relative_to(NBS).parts) and '.ipynb_checkpoints' not in str(p))
PAGES = {html_name(nb): nb for nb in NOTEBOOKS}

def exported():
    "Top-level exported names -> (page, anchor), from nbdev's `_modidx.py` (methods such as `A.f` are not auto-documented)."
    ns = {}; exec((LIB/'_modidx.py').read_text(), ns)
    res = {}
    for mod, syms in ns['d']['syms'].items():
        for sym, (link, _) in syms.items():
            name = sym[len(mod)+1:]
            if '.' not in name and not name.startswith('_'): res[name] = tuple(link.split('#', 1))  # show_doc skips _private
    return res
API = exported()
SEED_NAMES = ['build_model', 'count_params', 'pc_embarrassment', 'sparse_update', 'calibrate_guilt_threshold', 'run_dense_epoch',
              'run_sel_epoch', 'eval_full', 'eval_per_class', 'load_cifar10', 'build_loaders', 'build_held_out_loader',
              'sort_classes_by_difficulty', 'get_stage_loader', 'build_warmup_loader', 'count_flops']
SEED_CONSTANTS = {'CLASS_NAMES': 'data.html', 'N_CLASSES': 'data.html', 'BATCH_SIZE': 'data.html',
                  'SEED_STAGES': 'curriculum.html', 'STAGE_CONFIG': 'curriculum.html'}  # not in _modidx: found on their page

# ---------------------------------------------------------------- fast: no site build needed
def documented_entries():
    "The API entries the docs render, from the source of every module in `_modidx.py`: exported top-level functions and"
    " classes (`__all__`) and the methods added in their own cells with `@patch`; each as (name, its docstring or None)."
    ns = {}; exec((LIB/'_modidx.py').read_text(), ns)
    for mod in ns['d']['syms']:
        tree = ast.parse((ROOT/(mod.replace('.', '/') + '.py')).read_text())
        names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') == '__all__'), [])
        for n in tree.body:
            if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): continue
            patched = any('patch' in ast.unparse(d) for d in getattr(n, 'decorator_list', []))
            if patched: yield f"{mod}.{ast.unparse(n.args.args[0].annotation)}.{n.name}", ast.get_docstring(n)
            elif n.name in names: yield f'{mod}.{n.name}', ast.get_docstring(n)

def test_every_api_entry_has_a_docstring():
    "An entry without one reads \"Call self as a function.\" (or nothing) on its page."
    missing = [name for name, doc in documented_entries() if not (doc or '').strip()]
    assert not missing, f'{len(missing)} API entries without a one-line docstring: {missing}'

def test_no_rendered_output_carries_a_warning():
    "The committed outputs are what the pages show: no warning, no error, no traceback among them."
    found = []
    for nb in NOTEBOOKS:
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            for o in c.get('outputs', []):
                text = ''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', ''))
                if o['output_type'] == 'error' or o.get('name') == 'stderr' or re.search(r'\w+Warning:|Traceback \(most recent', text):
                    found.append(f'{nb.name}, cell {i}: {text[:200]!r}')
    assert not found, 'outputs with a warning or an error (fix the cause, then rerun the cell):\n' + '\n'.join(found)

# ---------------------------------------------------------------- fixtures: the browser (the site and its server: conftest.py)
@pytest.fixture(scope='session')
def driver():
    with chrome() as d: yield d

def status(url):
    try: return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as e: return e.code

def console_errors(driver):
    "SEVERE console entries: JS errors and failed loads (the browser's own /favicon.ico request and, offline, resources"
    " from other hosts, such as the Colab badges, excepted)."
    offsite = lambda m: re.match(r'https?://', m) and not m.startswith(('http://127.0.0.1', 'http://localhost'))
    return [e['message'] for e in driver.get_log('browser')
            if e['level'] == 'SEVERE' and '/favicon.ico' not in e['message'] and not offsite(e['message'])]

def plain(s): return s.replace('\u2019', "'").replace('\u2018', "'").replace('\u201c', '"').replace('\u201d', '"')  # smart quotes

def texts(driver, css): return [plain(e.get_attribute('textContent').strip()) for e in driver.find_elements(By.CSS_SELECTOR, css)]

# ---------------------------------------------------------------- tests
def test_home(driver, base_url):
    driver.get(base_url)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script('return document.readyState') == 'complete')
    assert TITLE in driver.title
    assert TITLE in texts(driver, '.navbar-title')
    assert console_errors(driver) == []
    shot(driver, 'home')

@pytest.mark.parametrize('page', list(PAGES))
def test_page(driver, base_url, page):
    title, heads, nfigs = nb_expectations(PAGES[page])
    url = base_url + page
    assert status(url) == 200
    driver.get_log('browser')  # clear
    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script('return document.readyState') == 'complete')
    if title: assert texts(driver, 'h1.title') == [title]
    shown = set(texts(driver, 'main h2, main h3, main h4'))
    assert set(heads) <= shown, f'missing headings {set(heads) - shown}'
    for name, (pg, anchor) in API.items():  # show_doc entries: a heading with nbdev's anchor, named like the symbol
        if pg != page: continue
        els = driver.find_elements(By.CSS_SELECTOR, f'main h3[data-anchor-id="{anchor}"], main h2[data-anchor-id="{anchor}"]')
        assert els and els[0].get_attribute('textContent').strip() == name, f'no API entry for {name} (#{anchor})'
        assert els[0].find_elements(By.XPATH, './following-sibling::*[contains(@class,"sourceCode")] | '
                                              './following-sibling::div[contains(@class,"code-copy-outer-scaffold")]'), f'no signature for {name}'
    imgs = driver.execute_script('return [...document.querySelectorAll("main img")].map(i => [i.src, i.complete, i.naturalWidth])')
    imgs = [i for i in imgs if not re.match(r'https?://', i[0]) or i[0].startswith(base_url)]  # offline: this site's own
    assert len(imgs) >= nfigs, f'expected {nfigs} figures, found {len(imgs)}'
    assert all(ok and w > 0 for _, ok, w in imgs), f'broken images: {imgs}'
    maths = driver.execute_script('return [...document.querySelectorAll("main .math")].map(m => !!m.querySelector(".katex"))')
    assert all(maths), f'{maths.count(False)} maths not rendered by KaTeX'
    for link in driver.execute_script('return [...document.querySelectorAll("main a[href]")].map(a => a.href)'):
        if not link.startswith(base_url): continue  # GitHub source links etc. are not checked offline
        target, _, frag = link.partition('#')
        assert status(target) == 200, f'broken link {link}'
        if frag: assert f'id="{urllib.parse.unquote(frag)}"' in urllib.request.urlopen(target).read().decode(), f'broken anchor {link}'
    assert console_errors(driver) == []
    shot(driver, page.replace('/', '_').removesuffix('.html'))

def test_sidebar_links(driver, base_url):
    driver.get(base_url)
    hrefs = [a.get_attribute('href') for a in driver.find_elements(By.CSS_SELECTOR, '#quarto-sidebar a.sidebar-link[href]')]
    assert len(hrefs) >= len(PAGES)
    assert {h[len(base_url):] for h in hrefs} >= set(PAGES)
    for h in hrefs:  # every page as served: found, and its own sidebar link the active one
        html = urllib.request.urlopen(h).read().decode()
        active = re.findall(r'<a href="([^"]+)" class="[^"]*sidebar-link active', html)
        assert active == [h[len(base_url):]], f'{h}: active sidebar links {active}'
    for h in hrefs[::max(1, len(hrefs) // 6)]:  # and a few of them in the browser, after its scripts ran
        driver.get(h)
        assert driver.find_elements(By.CSS_SELECTOR, '#quarto-sidebar a.sidebar-link.active'), f'{h}: not the active page'

def search(driver, base_url, name, want):
    "Type `name` in the search box; the result links to `want` (`page#anchor`, or a page: any anchor on it)."
    driver.get(base_url)
    box = WebDriverWait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, '#quarto-search input'))
    box.click(); box.send_keys(name)
    hit = lambda d: [a for a in d.find_elements(By.CSS_SELECTOR, '.smalldocs-search-results a.search-result')
                     if a.get_attribute('href').endswith(want) or a.get_attribute('href').partition('#')[0].endswith('/' + want)]
    return WebDriverWait(driver, 10).until(hit, f'no search result for {name} linking to {want}')

@pytest.mark.parametrize('name', SEED_NAMES)
def test_search(driver, base_url, name):
    page, anchor = API[name]
    want = f'{page}#{anchor}'
    links = search(driver, base_url, name, want)
    if name == SEED_NAMES[0]: shot(driver, 'search')
    links[0].click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(want))
    assert driver.find_elements(By.ID, anchor)

@pytest.mark.parametrize('name', list(SEED_CONSTANTS))
def test_search_constants(driver, base_url, name):
    links = search(driver, base_url, name, SEED_CONSTANTS[name])
    links[0].click()
    WebDriverWait(driver, 10).until(lambda d: SEED_CONSTANTS[name] in d.current_url)
    assert name in driver.find_element(By.CSS_SELECTOR, 'main').get_attribute('textContent')

FIGURES = 'return [...document.querySelectorAll("main img")].filter(i => !i.closest("a")).map(i => [i.getBoundingClientRect().width, i.naturalWidth, i.complete])'

@pytest.mark.parametrize('page', [p for p in PAGES if nb_expectations(PAGES[p])[2]])
def test_figures_readable(driver, base_url, page):
    "At 1280 px every figure shows at least half its own pixels (so at least half of each panel's), and a click opens it full size."
    driver.set_window_size(1280, 900)
    driver.get(base_url + page)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script('return document.readyState') == 'complete'
                                    and all(c for *_, c in d.execute_script(FIGURES)))
    figs = driver.execute_script(FIGURES)
    assert figs, f'{page}: no figure found'
    small = [(round(w), n) for w, n, _ in figs if w < 0.5 * n]
    assert not small, f'{page}: figures shown below half their width (shown px, own px): {small}'
    img = driver.find_elements(By.CSS_SELECTOR, 'main img.sel-zoom')[0]
    driver.execute_script('arguments[0].scrollIntoView({block: "center", behavior: "instant"})', img); img.click()
    big = WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.sel-lightbox img'))[0]
    assert big.get_attribute('naturalWidth') == img.get_attribute('naturalWidth')
    assert abs(big.rect['width'] - int(big.get_attribute('naturalWidth'))) <= 1, 'the lightbox shows the figure at its own size'
    driver.execute_script('arguments[0].click()', big)  # the click bubbles to the dark box around it
    assert not driver.find_elements(By.CSS_SELECTOR, '.sel-lightbox'), 'a click closes the lightbox'
