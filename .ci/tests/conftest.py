"""Shared pieces of the suite: the repository root, commands run from the project's environment, the built docs site
served locally, headless Chromium (Debian's chromium + chromium-driver; the paths are given, so Selenium Manager never
runs) and full-page screenshots into `_shots/`."""
import base64, contextlib, io, os, socket, subprocess, sys, tempfile, time, urllib.request
from contextlib import contextmanager
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: nbdev_test, sel_bench, ...
SITE = ROOT/'_docs'
SHOTS = ROOT/'_shots'
CHROMIUM = os.environ.get('CHROMIUM_BIN', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver')

def run(cmd, timeout=600, check=True, **kw):
    "Run `cmd` (a list) from the repository root; on failure, show its output in the assertion."
    r = subprocess.run(cmd, cwd=kw.pop('cwd', ROOT), capture_output=True, text=True, timeout=timeout, **kw)
    if check: assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r

def in_process(main, *args):
    "A console command's `main(argv)` run in this process, for bad input, which ends before any work (no interpreter and torch to start): its exit status and output as a `CompletedProcess`."
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv[:]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: main([str(a) for a in args]); code = 0
            except SystemExit as e: code = e.code
    finally: sys.argv = argv  # the commands record their arguments there
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())

@pytest.fixture(scope='session')
def root(): return ROOT

@pytest.fixture(scope='session')
def site():
    "Build the offline site, as a user would: `.ci/docs.py site` (once a session: the site and results-page tests share it)."
    run([BIN/'python', '.ci/docs.py', 'site'], timeout=900)
    assert (SITE/'index.html').exists(), f'no built site at {SITE}'
    return SITE

@pytest.fixture(scope='session')
def base_url(site):
    "The built site, served by `python -m http.server` on a free local port."
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    srv = subprocess.Popen([sys.executable, '-m', 'http.server', str(port), '--bind', '127.0.0.1', '--directory', str(SITE)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    for _ in range(100):
        try: urllib.request.urlopen(url, timeout=1); break
        except OSError: time.sleep(0.1)
    else: srv.kill(); pytest.fail('http.server did not start')
    yield url
    srv.terminate(); srv.wait(5)

@contextmanager
def chrome(*args, logs=('browser',)):
    "Headless Chromium with a throwaway profile; `args`: extra command-line flags; `logs`: the logs to keep (browser, performance)."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    for f in (CHROMIUM, CHROMEDRIVER):
        assert Path(f).exists(), f"{f} not found: run .ci/setup as root, or apt-get install chromium chromium-driver"
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory()
    for a in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
              f'--user-data-dir={profile.name}', '--window-size=1280,900', *args]: o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {k: 'ALL' for k in logs})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_page_load_timeout(30)
    try: yield d
    finally: d.quit(); profile.cleanup()

def shot(driver, name, full=True):
    "Save a PNG of the page as `_shots/<name>.png`: the full page (Chrome DevTools' captureBeyondViewport) or the window."
    SHOTS.mkdir(parents=True, exist_ok=True)
    if not full: return driver.save_screenshot(str(SHOTS/f'{name}.png')) and SHOTS/f'{name}.png'
    size = driver.execute_cdp_cmd('Page.getLayoutMetrics', {})['cssContentSize']
    clip = dict(x=0, y=0, width=size['width'], height=min(size['height'], 8000), scale=1)
    png = driver.execute_cdp_cmd('Page.captureScreenshot', dict(format='png', captureBeyondViewport=True, clip=clip))
    (SHOTS/f'{name}.png').write_bytes(base64.b64decode(png['data']))
    return SHOTS/f'{name}.png'
