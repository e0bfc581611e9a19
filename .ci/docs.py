"""Offline docs for this nbdev 2 project, without Quarto (which these machines cannot install).

    .venv/bin/python .ci/docs.py readme   # README.md from nbs/index.ipynb (what `nbdev_readme` does)
    .venv/bin/python .ci/docs.py site     # the docs site in _docs/ (what `nbdev_docs` does)

On GitHub, `.github/workflows/deploy.yaml` builds the same `_quarto.yml` site with Quarto itself.

1. `proc_docs`: what `nbdev_docs` does before it calls Quarto (`nbdev.quarto._pre_docs`, minus `_ensure_quarto`,
   which would try to download and `sudo dpkg -i` Quarto): refresh `nbs/_quarto.yml` + `nbs/nbdev.yml`, rebuild
   `_modidx.py`, write `nbs/sidebar.yml`, run nbdev's notebook processors into `_proc/` (`nbdev.serve.proc_nbs`).
2. `render_site`: render `_proc/` with smalldocs (pure Python, reads `_quarto.yml` + its `metadata-files`) into
   `_docs/`, honouring nbdev's `output-file` front matter (`00_core.ipynb` -> `core.html`), then make the site
   self-contained: links to the project's own doc site become relative, and the theme's Google-Fonts @import goes.
   Every results page of `results/` is copied to `_docs/results/` (the README's table of studies links them).
3. `nb2readme`: README.md from the processed `index.ipynb` (what `nbdev_readme` does with `quarto render -t gfm`),
   pictures saved as files in `index_files/figure-commonmark/`, as Quarto names them.

Dependencies: nbdev>=2.4,<3, fastcore<1.15, execnb<0.2, smalldocs 0.5.x (PyYAML, markdown-it-py come with them).
No Quarto, no network. The library must be importable (pip install -e .) since nbdev runs `show_doc` for it.
"""
import base64, json, re, shutil, sys, time
from pathlib import Path
from urllib.parse import urljoin

import yaml
from fastcore.xtras import working_directory
from smalldocs.config import load
from smalldocs.site import Site


def nbdev_config(root):
    "nbdev's config for the project at `root` (`get_config` finds settings.ini from the cwd and caches it)."
    from nbdev.config import get_config
    get_config.cache_clear()
    with working_directory(root): return get_config()


def proc_docs(root='.', n_workers=None):
    "Run nbdev's pre-Quarto steps; returns the `_proc` folder."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    import nbdev.doclinks
    root = Path(root).resolve()
    cfg = nbdev_config(root)
    if str(root) not in sys.path: sys.path.insert(0, str(root))  # spawned workers get sys.path: lib importable
    with working_directory(root):
        refresh_quarto_yml()                 # nbs/nbdev.yml always; nbs/_quarto.yml only if missing
        nbdev.doclinks._build_modidx()       # lib/_modidx.py
        nbdev_sidebar.__wrapped__(path=cfg.nbs_path)  # nbs/sidebar.yml (skipped if custom_sidebar = True)
        kw = {} if n_workers is None else dict(n_workers=n_workers)
        proc = proc_nbs(cfg.nbs_path, force=True, **kw)  # -> root/_proc, every notebook through FilterDefaults
        for f in Path(cfg.nbs_path).glob('_*.html'): shutil.copy2(f, proc/f.name)  # _quarto.yml's includes (proc_nbs skips `_` files)
    for nb in proc.rglob('*.ipynb'): _escape_showdoc_headings(nb)
    return proc


def _escape_showdoc_headings(path):
    "`### Scaler.__call__` would render as Scaler.<strong>call</strong>; escape `_` in show_doc headings."
    nb, changed = json.loads(path.read_text()), False
    for cell in nb['cells']:
        for out in cell.get('outputs', []):
            md = out.get('data', {}).get('text/markdown')
            if not md: continue
            lines, new, fence = md if isinstance(md, list) else md.splitlines(True), [], False
            for l in lines:
                fence ^= l.startswith('```')
                head = not fence and re.match(r'#{1,6} ', l) and '](' not in l
                new.append(re.sub(r'(?<!\\)_', r'\\_', l) if head else l)
            if new != lines: out['data']['text/markdown'], changed = new, True
    if changed: path.write_text(json.dumps(nb, indent=1, ensure_ascii=False))


class NbdevSite(Site):
    "A smalldocs site that writes each page to its `output-file` front matter, as Quarto does for nbdev."
    def read(self, src):
        page = super().read(src)
        if page.front.get('output-file'): page.out = page.out.with_name(str(page.front['output-file']))
        return page

    def find_page(self, target):  # so that links to `core.html` find the page made from `00_core.ipynb`
        return super().find_page(target) or next((p for p in self.pages.values() if p.out == target), None)


def _relink(dest, old, new):
    "In every page of `dest`, replace the URL prefix `old` by the path `new` (relative to the site root)."
    pat = re.compile(r'((?:href|src)=")' + re.escape(old.rstrip('/')) + r'/+')
    for f in dest.rglob('*.html'):
        up = '../' * (len(f.relative_to(dest).parts) - 1)
        txt = f.read_text()
        if pat.search(txt): f.write_text(pat.sub(lambda m: m[1] + (up + new if up or new else './'), txt))


def render_site(proc, dest, site_url=None, offline=True):
    "Render the processed notebooks in `proc` into `dest` with smalldocs; returns smalldocs' warnings."
    proc, dest = Path(proc).resolve(), Path(dest).resolve()
    project = load(proc)  # _quarto.yml + metadata-files: nbdev.yml (title, output-dir), sidebar.yml
    project.config.setdefault('project', {})['output-dir'] = str(dest)  # absolute wins over nbdev.yml's `_docs`
    site = NbdevSite(project, quiet=True)
    site.build()
    if offline:
        for css in (dest/'site_libs'/'themes').rglob('*.css'):  # Bootswatch themes @import Google Fonts
            css.write_text(re.sub(r'@import url\(https?://fonts\.googleapis\.com[^)]*\);?', '', css.read_text()))
        # nbdev's doc links are absolute (doc_host + doc_baseurl): make the links to the project's own pages relative
        if site_url: _relink(dest, site_url, '')
    return [w for w in site.warnings if 'output-file is not read' not in w]


def _src(x): return ''.join(x) if isinstance(x, list) else x


def nb2readme(nb_path, dest_dir):
    "Write `dest_dir/README.md` (GitHub Markdown) from a processed notebook; pictures go to `<stem>_files/`."
    nb_path, dest_dir = Path(nb_path), Path(dest_dir)
    nb, stem = json.loads(nb_path.read_text()), nb_path.stem
    figs = dest_dir/f'{stem}_files'/'figure-commonmark'
    shutil.rmtree(figs.parent, ignore_errors=True)
    parts = []
    for n, cell in enumerate(nb['cells']):
        src = _src(cell['source'])
        if cell['cell_type'] == 'raw':
            fm = yaml.safe_load(src.strip().strip('-')) if src.startswith('---') else None
            if isinstance(fm, dict):
                parts += [f"# {fm['title']}"] if fm.get('title') else []
                parts += [f"> {fm['description']}"] if fm.get('description') else []
            else: parts.append(src)
        elif cell['cell_type'] == 'markdown': parts.append(src.strip())
        elif cell['cell_type'] == 'code':
            lines = src.splitlines()
            opts = yaml.safe_load('\n'.join(l[3:] for l in lines if l.startswith('#| '))) or {}
            if opts.get('include') is False: continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if code and opts.get('echo', True) is not False: parts.append(f'``` python\n{code}\n```')
            if opts.get('output', True) is False: continue
            for k, out in enumerate(cell.get('outputs', []), 1):
                d = out.get('data', {})
                if out['output_type'] == 'stream': txt = _src(out['text'])
                elif 'image/png' in d or 'image/jpeg' in d:
                    mime = 'image/png' if 'image/png' in d else 'image/jpeg'
                    f = figs/f"cell-{n+1}-output-{k}.{mime.split('/')[1]}"
                    f.parent.mkdir(parents=True, exist_ok=True)
                    f.write_bytes(base64.b64decode(_src(d[mime])))
                    parts.append(f'![]({f.relative_to(dest_dir).as_posix()})'); continue
                elif 'text/markdown' in d: parts.append(_src(d['text/markdown']).strip()); continue
                elif 'text/html' in d: parts.append(_src(d['text/html']).strip()); continue
                elif 'text/plain' in d: txt = _src(d['text/plain'])
                else: continue
                parts.append('\n'.join('    ' + l for l in txt.rstrip('\n').splitlines()))
    (dest_dir/'README.md').write_text('\n\n'.join(p for p in parts if p) + '\n')
    return dest_dir/'README.md'


def copy_results_pages(results, dest):
    "Every results page of `results/` (each `index.html`, with the files beside it that the page links to) into `dest/results/`."
    from sel_nb.results_page import STUDY_FILES, BANDWIDTH_FILES
    results, dest = Path(results), Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    for page in results.rglob('index.html'):
        linked = set(STUDY_FILES.values()) | set(BANDWIDTH_FILES.values())  # what a study's or a sweep's page links
        for f in page.parent.iterdir():
            if f.name == 'index.html' or f.name in linked:
                (dest/f.parent.relative_to(results)).mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dest/f.relative_to(results))
    return dest


def build_site(project_root='.', n_workers=0):
    "The offline docs site: nbdev's processing into `_proc/`, then smalldocs into `_docs/`."
    t0 = time.time()
    root = Path(project_root).resolve()
    cfg = nbdev_config(root)
    proc = proc_docs(root, n_workers=n_workers)
    site_url = urljoin(cfg.doc_host + '/', cfg.doc_baseurl)
    for w in render_site(proc, cfg.doc_path, site_url=site_url): print('smalldocs warning:', w, file=sys.stderr)
    copy_results_pages(root/'results', Path(cfg.doc_path)/'results')  # the README's and the Results page's links to them
    print(f'site built in {time.time()-t0:.1f}s: {cfg.doc_path}/index.html', file=sys.stderr)
    return cfg.doc_path


def build_readme(project_root='.', dest=None):
    "README.md (and its pictures) from the index notebook, processed alone as nbdev's docs steps process it (its doc links from the committed `_modidx.py`), into `dest` (default: the project root)."
    import tempfile
    import nbdev.serve_drv
    from nbdev.processors import FilterDefaults
    root = Path(project_root).resolve()
    cfg = nbdev_config(root)
    if str(root) not in sys.path: sys.path.insert(0, str(root))
    with tempfile.TemporaryDirectory() as d, working_directory(root):
        nb = Path(d)/cfg.readme_nb
        nbdev.serve_drv.main((cfg.nbs_path/cfg.readme_nb, nb, FilterDefaults))
        _escape_showdoc_headings(nb)
        return nb2readme(nb, Path(dest or cfg.config_path))


if __name__ == '__main__':  # the guard matters: proc_nbs may start worker processes with `spawn`
    import argparse
    p = argparse.ArgumentParser(description='Offline docs for sel_nb: `readme` writes README.md from nbs/index.ipynb; `site` builds _docs/.')
    p.add_argument('what', choices=['readme', 'site'])
    p.add_argument('--root', default=str(Path(__file__).resolve().parent.parent))
    a = p.parse_args()
    build_readme(a.root) if a.what == 'readme' else build_site(a.root)
